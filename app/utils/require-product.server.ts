import { LRUCache } from 'lru-cache'
import { getProduct, type Product } from '~/models/product.server'
import { ServiceUnavailableError, UNAVAILABLE, unavailableService, withDeadline } from './availability.server'
import { WALL_CLOCK } from './wall-clock'

/** The product a route's `:productId` names, or a 404 response to throw. */
export async function requireProduct(productId: string | undefined): Promise<Product> {
  const product = productId ? await getProduct({ productId }) : null
  if (!product) throw new Response('No product has that address.', { status: 404, statusText: 'Not found' })
  return product
}

/** How long this server may show a product it loaded while the database does not answer. */
const RECENT_PRODUCT_MS = 60 * 60 * 1000
const recentProducts = new LRUCache<string, Product>({ max: 1000, ttl: RECENT_PRODUCT_MS, perf: WALL_CLOCK })

/**
 * The product a route's `:productId` names, as `requireProduct` gives it; while the database does not
 * answer (within 2 s), the one this server last loaded, with `databaseDown`, so that an edit form
 * submitted during an outage comes back with its values instead of an error page. Without such a copy,
 * a 503 page says the database is not answering.
 */
export async function requireProductOrRecent(
  productId: string | undefined,
): Promise<{ product: Product; databaseDown: boolean }> {
  try {
    const product = await withDeadline(requireProduct(productId), 2_000, () => {
      throw new ServiceUnavailableError('database')
    })
    recentProducts.set(product.id, product)
    return { product, databaseDown: false }
  } catch (error) {
    if (unavailableService(error) !== 'database') throw error
    const recent = productId ? recentProducts.get(productId) : undefined
    if (recent) return { product: recent, databaseDown: true }
    throw new Response(UNAVAILABLE.database, { status: 503, statusText: 'Service unavailable' })
  }
}
