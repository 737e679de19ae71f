import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { listProducts } from '~/models/product.server'
import { requireAdmin } from '~/utils/auth.server'
import { formatPrice } from '~/utils/product-schema'
import { GRID_SIZES, useRefreshWhilePending, VariantImage } from '~/components/variant-image'
import { imageViews } from '~/images/view.server'

export const meta: MetaFunction = () => [{ title: 'Products · Product images' }]

export const PAGE_SIZE = 24

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAdmin(request)
  const after = new URL(request.url).searchParams.get('after')
  const page = await listProducts({ limit: PAGE_SIZE, after })
  const views = await imageViews(page.products.flatMap((product) => (product.image ? [product.image] : [])))
  let next = 0
  return {
    nextCursor: page.nextCursor,
    isFirstPage: !after,
    products: page.products.map((product) => ({
      id: product.id,
      name: product.name,
      price: formatPrice(product.priceCents),
      image: product.image ? { view: views[next++]!, alt: product.image.altText || product.name } : null,
    })),
  }
}

export default function Products() {
  const { products, nextCursor, isFirstPage } = useLoaderData<typeof loader>()
  useRefreshWhilePending(products.flatMap((product) => (product.image ? [product.image.view] : [])))
  return (
    <>
      <div className="toolbar">
        <h1>Products</h1>
        <Link className="button" to="/products/new">
          New product
        </Link>
      </div>
      {products.length === 0 ? (
        <p>{isFirstPage ? 'No products yet. Create the first one.' : 'No older products.'}</p>
      ) : (
        <ul className="product-grid" aria-label="Products">
          {products.map((product, i) => (
            <li key={product.id}>
              <Link to={`/products/${product.id}`}>
                <div className="thumb">
                  {product.image ? (
                    <VariantImage
                      image={product.image.view}
                      alt={product.image.alt}
                      sizes={GRID_SIZES}
                      loading={i < 8 ? 'eager' : 'lazy'}
                    />
                  ) : (
                    <span>No image</span>
                  )}
                </div>
                <div className="meta">
                  <div>{product.name}</div>
                  <div>${product.price}</div>
                </div>
              </Link>
            </li>
          ))}
        </ul>
      )}
      <nav aria-label="Pages" className="toolbar">
        {!isFirstPage ? <Link to="/products">Newest products</Link> : <span />}
        {nextCursor ? <Link to={`/products?after=${nextCursor}`}>Older products</Link> : null}
      </nav>
    </>
  )
}
