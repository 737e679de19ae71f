import { redirect, type LoaderFunctionArgs } from '@remix-run/node'
import { originalDownloadUrl } from '~/images/urls.server'
import { requireProduct } from '~/utils/require-product.server'
import { requireAdmin } from '~/utils/auth.server'
import { IMAGE_EXTENSIONS, type ImageType } from '~/uploads/image-types'

/**
 * GET /products/:productId/images/:imageId/original: downloads the original an admin uploaded, as an
 * attachment, through a URL that lives five minutes. Originals are never shown on a page.
 */
export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request)
  const product = await requireProduct(params.productId)
  const image = product.images.find((i) => i.id === params.imageId)
  if (!image) throw new Response('This product has no such image.', { status: 404, statusText: 'Not found' })
  const fileName =
    image.fileName ??
    `${product.name}-${image.position + 1}.${IMAGE_EXTENSIONS[image.contentType as ImageType]}`
  return redirect(await originalDownloadUrl(image.key, fileName), {
    headers: { 'Cache-Control': 'no-store' },
  })
}
