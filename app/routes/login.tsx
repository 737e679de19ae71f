import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/node'
import { Form, useActionData, useNavigation, useSearchParams } from '@remix-run/react'
import { verifyLogin } from '~/models/admin.server'
import { getOptionalAdmin, requireSameOrigin, safeRedirect, signIn } from '~/utils/auth.server'
import { loginWaitSeconds, recordLoginFailure, recordLoginSuccess } from '~/utils/login-throttle.server'
import { PasswordHashingBusyError } from '~/utils/password.server'
import { hasControlCharacters } from '~/utils/text'

const MAX_EMAIL_LENGTH = 254
const MAX_PASSWORD_LENGTH = 1024

export const meta: MetaFunction = () => [{ title: 'Sign in · Product images' }]

export async function loader({ request }: LoaderFunctionArgs) {
  if (await getOptionalAdmin(request)) {
    throw redirect(safeRedirect(new URL(request.url).searchParams.get('redirectTo')))
  }
  return null
}

const waitMessage = (seconds: number) =>
  `Too many failed sign-ins. Try again in ${seconds < 60 ? `${seconds} second${seconds === 1 ? '' : 's'}` : `${Math.ceil(seconds / 60)} minutes`}.`

export async function action({ request, context }: ActionFunctionArgs) {
  requireSameOrigin(request)
  const form = await request.formData()
  const email = String(form.get('email') ?? '')
  const password = String(form.get('password') ?? '')
  const redirectTo = safeRedirect(form.get('redirectTo'))
  if (!email || !password) {
    return data({ error: 'Enter your email and password.', email }, { status: 400 })
  }
  if (
    email.length > MAX_EMAIL_LENGTH ||
    hasControlCharacters(email) ||
    password.length > MAX_PASSWORD_LENGTH
  ) {
    return data({ error: 'That email and password do not match an admin.', email: '' }, { status: 400 })
  }
  const attempt = { email, address: context.clientAddress ?? 'unknown' }
  const wait = await loginWaitSeconds(attempt)
  if (wait > 0) {
    return data(
      { error: waitMessage(wait), email },
      { status: 429, headers: { 'Retry-After': String(wait) } },
    )
  }
  let admin
  try {
    admin = await verifyLogin({ email, password })
  } catch (error) {
    if (!(error instanceof PasswordHashingBusyError)) throw error
    return data({ error: error.message, email }, { status: 503, headers: { 'Retry-After': '5' } })
  }
  if (!admin) {
    const earned = await recordLoginFailure(attempt)
    const error = 'That email and password do not match an admin.'
    return data({ error: earned > 0 ? `${error} ${waitMessage(earned)}` : error, email }, { status: 401 })
  }
  await recordLoginSuccess(attempt)
  return signIn({ request, admin, redirectTo })
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
