import {
  data,
  redirect,
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  type MetaFunction,
} from '@remix-run/node'
import { getFormProps, getInputProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, useActionData, useLoaderData, useNavigation, useSearchParams } from '@remix-run/react'
import { FieldErrors } from '~/components/field-errors'
import { z } from 'zod'
import { verifyLogin } from '~/models/admin.server'
import { cookieProblem, getOptionalAdmin, requireSameOrigin, safeRedirect, signIn } from '~/utils/auth.server'
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
  return { cookieProblem: await cookieProblem(request) }
}

const waitMessage = (seconds: number) =>
  `Too many failed sign-ins. Try again in ${seconds < 60 ? `${seconds} second${seconds === 1 ? '' : 's'}` : `${Math.ceil(seconds / 60)} minutes`}.`

const NO_MATCH = 'That email and password do not match an admin.'

/** The sign-in form. Input no admin could have (too long, control characters) gets the answer a wrong password gets. */
const LoginSchema = z
  .object({
    email: z.string({ error: 'Enter your email.' }).trim(),
    password: z.string({ error: 'Enter your password.' }),
    redirectTo: z.string().optional(),
  })
  .refine(
    ({ email, password }) =>
      email.length <= MAX_EMAIL_LENGTH &&
      !hasControlCharacters(email) &&
      password.length <= MAX_PASSWORD_LENGTH,
    NO_MATCH,
  )

export async function action({ request, context }: ActionFunctionArgs) {
  requireSameOrigin(request)
  const submission = parseWithZod(await request.formData(), { schema: LoginSchema })
  // The password never comes back to the page.
  const refuse = (status: number, message?: string, headers?: HeadersInit) =>
    data(submission.reply({ formErrors: message ? [message] : undefined, hideFields: ['password'] }), {
      status,
      headers,
    })
  if (submission.status !== 'success') return refuse(400)
  const { email, password } = submission.value
  const attempt = { email, address: context.clientAddress ?? 'unknown' }
  const wait = await loginWaitSeconds(attempt)
  if (wait > 0) return refuse(429, waitMessage(wait), { 'Retry-After': String(wait) })
  let admin
  try {
    admin = await verifyLogin({ email, password })
  } catch (error) {
    if (!(error instanceof PasswordHashingBusyError)) throw error
    return refuse(503, error.message, { 'Retry-After': '5' })
  }
  if (!admin) {
    const earned = await recordLoginFailure(attempt)
    return refuse(401, earned > 0 ? `${NO_MATCH} ${waitMessage(earned)}` : NO_MATCH)
  }
  await recordLoginSuccess(attempt)
  return signIn({ request, admin, redirectTo: safeRedirect(submission.value.redirectTo) })
}

export default function Login() {
  const lastResult = useActionData<typeof action>()
  const { cookieProblem } = useLoaderData<typeof loader>()
  const [params] = useSearchParams()
  const submitting = useNavigation().state === 'submitting'
  const [form, fields] = useForm({
    id: 'login',
    lastResult,
    constraint: getZodConstraint(LoginSchema),
    defaultNoValidate: false,
    shouldValidate: 'onBlur',
    shouldRevalidate: 'onInput',
    onValidate: ({ formData }) => parseWithZod(formData, { schema: LoginSchema }),
  })
  return (
    <div className="card" style={{ maxWidth: 420, margin: '2rem auto' }}>
      <h1>Sign in</h1>
      <Form method="post" {...getFormProps(form)}>
        {form.errors?.length ? (
          <p id={form.errorId} className="errors" role="alert">
            {form.errors.join(' ')}
          </p>
        ) : cookieProblem ? (
          <p className="errors" role="alert">
            {cookieProblem}
          </p>
        ) : null}
        <input type="hidden" name="redirectTo" value={params.get('redirectTo') ?? '/products'} />
        <div className="field">
          <label htmlFor="email">Email</label>
          <input
            {...getInputProps(fields.email, { type: 'email' })}
            id="email"
            autoComplete="username"
            aria-invalid={fields.email.errors || form.errors ? true : undefined}
          />
          <FieldErrors id={fields.email.errorId} errors={fields.email.errors} />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            {...getInputProps(fields.password, { type: 'password' })}
            id="password"
            autoComplete="current-password"
            aria-invalid={fields.password.errors || form.errors ? true : undefined}
          />
          <FieldErrors id={fields.password.errorId} errors={fields.password.errors} />
        </div>
        <button type="submit" disabled={submitting}>
          Sign in
        </button>
      </Form>
    </div>
  )
}
