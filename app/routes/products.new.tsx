import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
  data,
} from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { ProductForm } from '~/components/product-form'
import { requireAdmin, requireSameOrigin } from '~/utils/auth.server'
import { newIdempotencyKey, submitProductForm } from '~/utils/product-form.server'
import { getUploaderSettings } from '~/uploads/submission.server'

export const meta: MetaFunction = () => [{ title: 'New product · Product images' }]

export async function loader({ request }: LoaderFunctionArgs) {
  await requireAdmin(request)
  return { uploader: getUploaderSettings(), idempotencyKey: newIdempotencyKey() }
}

export async function action({ request }: ActionFunctionArgs) {
  requireSameOrigin(request)
  const admin = await requireAdmin(request)
  const result = await submitProductForm(request, admin)
  if (result.ok) return redirect(`/products/${result.productId}`)
  // The form comes back with what is wrong: 400, not 200.
  return data(result, { status: 400 })
}

export default function NewProduct() {
  const { uploader, idempotencyKey } = useLoaderData<typeof loader>()
  const failed = useActionData<typeof action>()
  return (
    <>
      <p>
        <Link to="/products">← All products</Link>
      </p>
      <h1>New product</h1>
      <div className="card">
        <ProductForm
          key={failed ? JSON.stringify(failed.values) + failed.images.length : 'new'}
          values={failed?.values}
          errors={failed?.errors}
          images={failed?.images}
          uploader={uploader}
          idempotencyKey={idempotencyKey}
          submitLabel="Create product"
        />
      </div>
    </>
  )
}
