import type { ActionFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { startProcessing } from '~/images/start.server'
import { requireAdminApi, requireSameOrigin } from '~/utils/auth.server'
import { getUploadLimits } from '~/uploads/submission.server'
import { checkStagedUpload } from '~/uploads/staged-image.server'
import { verifyUploadRef } from '~/uploads/refs.server'

const CheckRequest = z.object({ ref: z.string().min(1).max(4096) })

/**
 * POST /uploads/check: the uploader calls this as soon as a file has finished uploading. The server
 * checks the staged object as the form's save will (exists, size, type, dimensions) and starts making
 * its variants, so most are ready by the time the admin saves. 200 `{ ok: true }`, or 422 with the
 * reason the save would give; 401/403 as for signing.
 */
export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== 'POST') return Response.json({ error: 'Use POST.' }, { status: 405 })
  requireSameOrigin(request)
  const admin = await requireAdminApi(request)
  const parsed = CheckRequest.safeParse(await request.json().catch(() => undefined))
  if (!parsed.success) return Response.json({ error: 'Send { "ref": "…" }.' }, { status: 400 })
  const verified = verifyUploadRef(parsed.data.ref, admin.id)
  if (!verified.ok) return Response.json({ error: 'That upload was not started by you.' }, { status: 403 })
  const check = await checkStagedUpload(verified.ref, getUploadLimits())
  if (!check.ok) return Response.json({ error: check.error }, { status: 422 })
  await startProcessing([check.image])
  return Response.json({ ok: true }, { headers: { 'Cache-Control': 'no-store' } })
}

export function loader() {
  return Response.json({ error: 'Use POST.' }, { status: 405 })
}
