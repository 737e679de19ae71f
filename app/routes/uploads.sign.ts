import type { ActionFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { reserveNewUploads, UploadLimitError } from '~/uploads/upload-limits.server'
import { requireAdminApi, requireSameOrigin } from '~/utils/auth.server'
import {
  SignBatchSchema,
  SignError,
  signUploadBatch,
  signUploadRequest,
  SignRequestSchema,
} from '~/uploads/signing.server'

/**
 * POST /uploads/sign: signs one S3 request of the browser uploader, or a batch of them (JSON in, JSON
 * out; a batch answers `{ results }`, one signed request or `{ error, status }` for each).
 * 401 without a signed-in admin, 403 from another origin or for someone else's upload, 400 for
 * anything that is not a request the uploader makes, 429 with Retry-After past the admin's limits on
 * new uploads (the uploader waits and asks again).
 */
export async function action({ request, context }: ActionFunctionArgs) {
  if (request.method !== 'POST') return Response.json({ error: 'Use POST.' }, { status: 405 })
  requireSameOrigin(request)
  const admin = await requireAdminApi(request)
  const body: unknown = await request.json().catch(() => undefined)
  const isBatch =
    typeof body === 'object' && body !== null && 'operation' in body && body.operation === 'batch'
  const parsed = isBatch ? SignBatchSchema.safeParse(body) : SignRequestSchema.safeParse(body)
  if (!parsed.success) {
    return Response.json(
      { error: `Not a request the uploader can have signed: ${z.prettifyError(parsed.error)}` },
      { status: 400 },
    )
  }
  const requests = parsed.data.operation === 'batch' ? parsed.data.requests : [parsed.data]
  const newUploads = requests.filter(
    (r) => r.operation === 'putObject' || r.operation === 'createMultipartUpload',
  ).length
  try {
    await reserveNewUploads({
      adminId: admin.id,
      address: context.clientAddress ?? 'unknown',
      count: newUploads,
    })
  } catch (error) {
    if (!(error instanceof UploadLimitError)) throw error
    console.warn(`[uploads] admin ${admin.id}: ${newUploads} new uploads refused: ${error.message}`)
    return Response.json(
      { error: error.message, retryAfter: error.retryAfter },
      { status: 429, headers: { 'Retry-After': String(error.retryAfter) } },
    )
  }
  try {
    const signed =
      parsed.data.operation === 'batch'
        ? await signUploadBatch(parsed.data.requests, admin)
        : await signUploadRequest(parsed.data, admin)
    return Response.json(signed, { headers: { 'Cache-Control': 'no-store' } })
  } catch (error) {
    if (error instanceof SignError) return Response.json({ error: error.message }, { status: error.status })
    throw error
  }
}

export function loader() {
  return Response.json({ error: 'Use POST.' }, { status: 405 })
}
