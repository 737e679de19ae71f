import type { ActionFunctionArgs } from '@remix-run/node'
import pLimit from 'p-limit'
import { z } from 'zod'
import { startProcessing } from '~/images/start.server'
import { requireAdminApi, requireSameOrigin } from '~/utils/auth.server'
import { unavailableService } from '~/utils/availability.server'
import { MAX_CHECK_BATCH } from '~/uploads/limits'
import { getUploadLimits } from '~/uploads/submission.server'
import { checkStagedUpload, type StagedCheck } from '~/uploads/staged-image.server'
import { verifyUploadRef } from '~/uploads/refs.server'

const CheckRequest = z.object({ refs: z.array(z.string().min(1).max(4096)).min(1).max(MAX_CHECK_BATCH) })
/** Objects read from S3 at once for one call. */
const READS_AT_ONCE = 4

/**
 * POST /uploads/check `{ refs }`: the uploader sends the references of finished uploads here, a batch at
 * a time. The server checks each staged object as the form's save will (exists, size, type, dimensions)
 * and starts making the variants of the good ones, so most are ready by the time the admin saves.
 * Answers 200 `{ results }`, one per reference in order: `{ ok: true }`, or `{ error }` with the reason
 * the save would give. 400 for a malformed body, 401/403 as for signing, 503 when storage or the
 * database is not answering (the save checks every image again, so nothing is lost).
 */
export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== 'POST') return Response.json({ error: 'Use POST.' }, { status: 405 })
  requireSameOrigin(request)
  const admin = await requireAdminApi(request)
  const parsed = CheckRequest.safeParse(await request.json().catch(() => undefined))
  if (!parsed.success) {
    return Response.json(
      { error: `Send { "refs": [...] } with 1 to ${MAX_CHECK_BATCH} upload references.` },
      { status: 400 },
    )
  }
  const limits = getUploadLimits()
  const reading = pLimit(READS_AT_ONCE)
  try {
    const checks = await Promise.all(
      parsed.data.refs.map((ref): Promise<StagedCheck> | StagedCheck => {
        const verified = verifyUploadRef(ref, admin.id)
        if (!verified.ok) return { ok: false, error: 'That upload was not started by you.' }
        return reading(() => checkStagedUpload(verified.ref, limits))
      }),
    )
    await startProcessing(checks.flatMap((check) => (check.ok ? [check.image] : [])))
    return Response.json(
      { results: checks.map((check) => (check.ok ? { ok: true } : { error: check.error })) },
      { headers: { 'Cache-Control': 'no-store' } },
    )
  } catch (error) {
    const service = unavailableService(error)
    if (!service) throw error
    return Response.json(
      { error: `The ${service} is not answering; saving the form checks these images again.` },
      { status: 503 },
    )
  }
}

export function loader() {
  return Response.json({ error: 'Use POST.' }, { status: 405 })
}
