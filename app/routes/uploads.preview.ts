import type { LoaderFunctionArgs } from '@remix-run/node'
import { imageUrl } from '~/images/urls.server'
import { processingOfSource } from '~/models/image-processing.server'
import { requireAdminApi } from '~/utils/auth.server'
import { unavailableService } from '~/utils/availability.server'
import { verifyUploadRef } from '~/uploads/refs.server'

/** The variant a Dashboard thumbnail shows: the smallest at least this wide. */
const PREVIEW_WIDTH = 240

/**
 * GET /uploads/preview?ref=…: a thumbnail for a finished upload the browser cannot decode itself (a
 * HEIC in Chromium or Firefox), made by the server once the upload's check has started its variants.
 * Answers `{ status: 'ready', url }`, `{ status: 'pending' }` (ask again; Retry-After says when) or
 * `{ status: 'failed', error }` with the reason pages give. 403 for another admin's reference.
 */
export async function loader({ request }: LoaderFunctionArgs) {
  const admin = await requireAdminApi(request)
  const token = new URL(request.url).searchParams.get('ref') ?? ''
  const verified = verifyUploadRef(token, admin.id)
  if (!verified.ok) return Response.json({ error: 'That upload was not started by you.' }, { status: 403 })
  const headers = { 'Cache-Control': 'no-store' }
  try {
    const processing = await processingOfSource(verified.ref.key)
    if (processing?.status === 'failed') {
      return Response.json({ status: 'failed', error: processing.failure }, { headers })
    }
    const variants = processing?.status === 'ready' ? processing.variants : []
    const variant = variants.find((v) => v.width >= PREVIEW_WIDTH) ?? variants.at(-1)
    if (!variant) return Response.json({ status: 'pending' }, { headers: { ...headers, 'Retry-After': '1' } })
    return Response.json({ status: 'ready', url: await imageUrl(variant.key) }, { headers })
  } catch (error) {
    const service = unavailableService(error)
    if (!service) throw error
    return Response.json({ status: 'pending' }, { status: 503, headers: { ...headers, 'Retry-After': '5' } })
  }
}
