import { getProduct, type Product } from '~/models/product.server'

/** The product a route's `:productId` names, or a 404 response to throw. */
export async function requireProduct(productId: string | undefined): Promise<Product> {
  const product = productId ? await getProduct({ productId }) : null
  if (!product) throw new Response('No product has that address.', { status: 404, statusText: 'Not found' })
  return product
}
