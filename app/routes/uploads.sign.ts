import type { ActionFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
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
 * anything that is not a request the uploader makes.
 */
export async function action({ request }: ActionFunctionArgs) {
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
