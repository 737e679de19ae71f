import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { requireProduct } from '~/utils/require-product.server'
import { requireAdmin } from '~/utils/auth.server'
import { formatPrice } from '~/utils/product-schema'
import { GRID_SIZES, useRefreshWhilePending, VariantImage } from '~/components/variant-image'
import { imageViews } from '~/images/view.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.product.name} · Product images` : 'Product not found' },
]

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request)
  const product = await requireProduct(params.productId)
  const count = product.images.length
  const views = await imageViews(product.images)
  return {
    product: {
      id: product.id,
      name: product.name,
      price: formatPrice(product.priceCents),
      description: product.description,
      images: product.images.map((image, i) => ({
        id: image.id,
        view: views[i]!,
        alt: image.altText || `${product.name}, image ${i + 1} of ${count}`,
      })),
    },
  }
}

export default function ProductPage() {
  const { product } = useLoaderData<typeof loader>()
  useRefreshWhilePending(product.images.map((image) => image.view))
  return (
    <>
      <p>
        <Link to="/products">← All products</Link>
      </p>
      <div className="toolbar">
        <h1>{product.name}</h1>
        <span className="actions">
          <Link to={`/products/${product.id}/edit`}>Edit product</Link>
          <Link to={`/products/${product.id}/delete`}>Delete product</Link>
        </span>
      </div>
      <p className="price">${product.price}</p>
      {product.description ? <p style={{ whiteSpace: 'pre-line' }}>{product.description}</p> : null}
      {product.images.length > 0 ? (
        <ul className="gallery" aria-label="Images">
          {product.images.map((image, i) => (
            <li key={image.id}>
              <VariantImage
                image={image.view}
                alt={image.alt}
                sizes={GRID_SIZES}
                loading={i < 3 ? 'eager' : 'lazy'}
              />
            </li>
          ))}
        </ul>
      ) : (
        <p>This product has no images.</p>
      )}
    </>
  )
}
