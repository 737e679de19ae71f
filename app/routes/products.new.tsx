import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { requireAdmin } from '~/utils/auth.server'
import { getUploaderSettings } from '~/uploads/submission.server'
import { ProductEditor } from './__product-editor'
import { loadProductEditor, type action } from './__product-editor.server'

export { action } from './__product-editor.server'

export const meta: MetaFunction = () => [{ title: 'New product · Product images' }]

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAdmin(request)
  return { editor: await loadProductEditor(null), uploader: getUploaderSettings() }
}

export default function NewProduct() {
  const { editor, uploader } = useLoaderData<typeof loader>()
  const answer = useActionData<typeof action>()
  return (
    <>
      <p>
        <Link to="/products">← All products</Link>
      </p>
      <h1>New product</h1>
      <div className="card">
        <ProductEditor state={answer ?? editor} uploader={uploader} submitLabel="Create product" />
      </div>
    </>
  )
}
