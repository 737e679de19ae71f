import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { ProductForm } from '~/components/product-form'
import { requireAdmin, requireSameOrigin } from '~/utils/auth.server'
import { loadEditForm, requireProductOrRecent, submitProductEdit } from '~/utils/product-edit.server'
import { getUploaderSettings } from '~/uploads/submission.server'

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `Edit ${data.name} · Product images` : 'Product not found' },
]

export async function loader({ request, params }: LoaderFunctionArgs) {
  await requireAdmin(request)
  const { product } = await requireProductOrRecent(params.productId)
  return { name: product.name, form: await loadEditForm(product), uploader: getUploaderSettings() }
}

export async function action({ request, params }: ActionFunctionArgs) {
  requireSameOrigin(request)
  const admin = await requireAdmin(request)
  const { product, databaseDown } = await requireProductOrRecent(params.productId)
  const result = await submitProductEdit(request, admin, product, { databaseDown })
  if (result.ok) return redirect(`/products/${product.id}`)
  // A Move button without JavaScript comes back as 200; a form with something wrong as 400.
  const failed = Object.keys(result.state.errors).length > 0 || Object.keys(result.state.altErrors).length > 0
  return data(result.state, { status: failed ? 400 : 200 })
}

export default function EditProduct() {
  const { name, form: loaded, uploader } = useLoaderData<typeof loader>()
  const submitted = useActionData<typeof action>()
  const form = submitted ?? loaded
  return (
    <>
      <p>
        <Link to={`/products/${form.productId}`}>← {name}</Link>
      </p>
      <div className="toolbar">
        <h1>Edit {name}</h1>
        <Link to={`/products/${form.productId}/delete`}>Delete product</Link>
      </div>
      <div className="card">
        <ProductForm
          // A new form (fresh defaults, a fresh uploader) for every answer from the server.
          key={JSON.stringify(form)}
          values={{ ...form.values, idempotencyKey: form.idempotencyKey }}
          idempotencyKey={form.idempotencyKey}
          errors={form.errors}
          images={form.images}
          uploader={uploader}
          submitLabel="Save changes"
          saved={{
            images: form.existing,
            altErrors: form.altErrors,
            announcement: form.announcement,
            version: form.version,
          }}
        />
      </div>
    </>
  )
}
