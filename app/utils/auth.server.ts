import { redirect } from '@remix-run/node'
import { getAdmin, type Admin } from '~/models/admin.server'
import { getEnv } from './env.server'
import { getSession, getSessionStorage } from './session.server'

async function getSessionAdmin(request: Request): Promise<Admin | null> {
  const session = await getSession(request)
  const adminId = session.get('adminId')
  return typeof adminId === 'number' ? getAdmin({ adminId }) : null
}

/** The signed-in admin of a page request; anonymous visitors are redirected to /login and back. */
export async function requireAdmin(request: Request): Promise<Admin> {
  const admin = await getSessionAdmin(request)
  if (admin) return admin
  const url = new URL(request.url)
  const redirectTo = `${url.pathname}${url.search}`
  throw redirect(`/login?${new URLSearchParams({ redirectTo })}`)
}

/** The signed-in admin of an API request; anonymous callers get 401 and no redirect. */
export async function requireAdminApi(request: Request): Promise<Admin> {
  const admin = await getSessionAdmin(request)
  if (admin) return admin
  throw Response.json({ error: 'Sign in as an admin first.' }, { status: 401 })
}

export async function getOptionalAdmin(request: Request) {
  return getSessionAdmin(request)
}

/**
 * Refuses mutations sent from another site. Browsers send Origin on every POST; requests without it
 * (curl, server-to-server) cannot carry a victim's cookies through a browser, so they pass.
 */
export function requireSameOrigin(request: Request) {
  const origin = request.headers.get('Origin')
  const fetchSite = request.headers.get('Sec-Fetch-Site')
  if (origin === null || origin === 'null') {
    if (fetchSite && fetchSite !== 'same-origin' && fetchSite !== 'none') throw crossOrigin()
    if (origin === 'null') throw crossOrigin()
    return
  }
  const allowed = new Set([new URL(request.url).origin, getEnv().APP_ORIGIN])
  if (!allowed.has(origin)) throw crossOrigin()
}

function crossOrigin() {
  return Response.json({ error: 'Cross-origin request refused.' }, { status: 403 })
}

export async function signIn({
  request,
  adminId,
  redirectTo,
}: {
  request: Request
  adminId: number
  redirectTo: string
}) {
  const session = await getSession(request)
  session.set('adminId', adminId)
  return redirect(redirectTo, { headers: { 'Set-Cookie': await getSessionStorage().commitSession(session) } })
}

export async function signOut(request: Request) {
  const session = await getSession(request)
  return redirect('/login', { headers: { 'Set-Cookie': await getSessionStorage().destroySession(session) } })
}

/** Only same-site paths, so /login?redirectTo=https://evil.example cannot bounce admins away. */
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback = '/products') {
  if (typeof to !== 'string' || !to.startsWith('/') || to.startsWith('//') || to.startsWith('/\\'))
    return fallback
  return to
}
