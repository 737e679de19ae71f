import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { requireAdmin } from '~/utils/auth.server'
import { requireProductOrRecent } from '~/utils/require-product.server'
import { getUploaderSettings } from '~/uploads/submission.server'
import { ProductEditor } from './__product-editor'
import { loadProductEditor, type action } from './__product-editor.server'

export { action } from './__product-editor.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Edit ${data.name} · Product images` : 'Product not found' },
]

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request)
  const { product } = await requireProductOrRecent(params.productId)
  return {
    id: product.id,
    name: product.name,
    editor: await loadProductEditor(product),
    uploader: getUploaderSettings(),
  }
}

export default function EditProduct() {
  const { id, name, editor, uploader } = useLoaderData<typeof loader>()
  const answer = useActionData<typeof action>()
  return (
    <>
      <p>
        <Link to={`/products/${id}`}>← {name}</Link>
      </p>
      <div className="toolbar">
        <h1>Edit {name}</h1>
        <Link to={`/products/${id}/delete`}>Delete product</Link>
      </div>
      <div className="card">
        <ProductEditor state={answer ?? editor} uploader={uploader} submitLabel="Save changes" />
      </div>
    </>
  )
}
