import {
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/node'
import { Form, useActionData, useNavigation, useSearchParams } from '@remix-run/react'
import { verifyLogin } from '~/models/admin.server'
import { getOptionalAdmin, requireSameOrigin, safeRedirect, signIn } from '~/utils/auth.server'

export const meta: MetaFunction = () => [{ title: 'Sign in · Product images' }]

export async function loader({ request }: LoaderFunctionArgs) {
  if (await getOptionalAdmin(request)) {
    throw redirect(safeRedirect(new URL(request.url).searchParams.get('redirectTo')))
  }
  return null
}

export async function action({ request }: ActionFunctionArgs) {
  requireSameOrigin(request)
  const form = await request.formData()
  const email = String(form.get('email') ?? '')
  const password = String(form.get('password') ?? '')
  const redirectTo = safeRedirect(form.get('redirectTo'))
  if (!email || !password) {
    return { error: 'Enter your email and password.', email }
  }
  const admin = await verifyLogin({ email, password })
  if (!admin) return { error: 'That email and password do not match an admin.', email }
  return signIn({ request, adminId: admin.id, redirectTo })
}

export default function Login() {
  const result = useActionData<typeof action>()
  const [params] = useSearchParams()
  const submitting = useNavigation().state === 'submitting'
  return (
    <div className="card" style={{ maxWidth: 420, margin: '2rem auto' }}>
      <h1>Sign in</h1>
      <Form method="post" aria-describedby={result?.error ? 'login-error' : undefined}>
        {result?.error ? (
          <p id="login-error" className="errors" role="alert">
            {result.error}
          </p>
        ) : null}
        <input type="hidden" name="redirectTo" value={params.get('redirectTo') ?? '/products'} />
        <div className="field">
          <label htmlFor="email">Email</label>
          <input
            id="email"
            name="email"
            type="email"
            autoComplete="username"
            required
            defaultValue={result?.email}
            aria-invalid={result?.error ? true : undefined}
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            aria-invalid={result?.error ? true : undefined}
          />
        </div>
        <button type="submit" disabled={submitting}>
          Sign in
        </button>
      </Form>
    </div>
  )
}
