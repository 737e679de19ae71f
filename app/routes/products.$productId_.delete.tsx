import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/node'
import { Form, Link, useLoaderData, useNavigation } from '@remix-run/react'
import { deleteProduct } from '~/models/product.server'
import { requireProduct } from '~/utils/require-product.server'
import { requireAdmin, requireSameOrigin } from '~/utils/auth.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Delete ${data.name} · Product images` : 'Product not found' },
]

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request)
  const product = await requireProduct(params.productId)
  return { id: product.id, name: product.name, imageCount: product.images.length }
}

export async function action({ request, params }: ActionFunctionArgs) {
  requireSameOrigin(request)
  await requireAdmin(request)
  const product = await requireProduct(params.productId)
  await deleteProduct({ productId: product.id })
  return redirect('/products')
}

/** The confirmation step: a page of its own, so deleting works the same with JavaScript off. */
export default function DeleteProduct() {
  const { id, name, imageCount } = useLoaderData<typeof loader>()
  const deleting = useNavigation().state === 'submitting'
  return (
    <div className="card" style={{ maxWidth: 520 }}>
      <h1>Delete {name}?</h1>
      <p>
        The product and its {imageCount === 1 ? 'image' : `${imageCount} images`} will be removed for good.
      </p>
      <Form method="post" className="toolbar">
        <Link to={`/products/${id}`}>Cancel</Link>
        <button type="submit" className="danger" disabled={deleting}>
          Delete product
        </button>
      </Form>
    </div>
  )
}
