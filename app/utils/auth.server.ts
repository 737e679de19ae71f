import { redirect } from '@remix-run/node'
import type { Admin } from '~/models/admin.server'
import { getEnv } from './env.server'
import { isAllowedMutationOrigin } from './origin'
import { getSession, getSessionData, getSessionStorage } from './session.server'

// Revocations on this server hold at once; on another server within a second (session.server.ts).
async function getSessionAdmin(request: Request): Promise<Admin | null> {
  const data = await getSessionData(request)
  return data ? { id: data.adminId, email: data.email } : null
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

/** Refuses mutations sent from another site (see isAllowedMutationOrigin). */
export function requireSameOrigin(request: Request) {
  const allowed = isAllowedMutationOrigin({
    method: request.method,
    origin: request.headers.get('Origin'),
    fetchSite: request.headers.get('Sec-Fetch-Site'),
    requestOrigin: new URL(request.url).origin,
    appOrigin: getEnv().APP_ORIGIN,
  })
  if (!allowed) throw crossOrigin()
}

function crossOrigin() {
  return Response.json({ error: 'Cross-origin request refused.' }, { status: 403 })
}

export async function signIn({
  request,
  admin,
  redirectTo,
}: {
  request: Request
  admin: Admin
  redirectTo: string
}) {
  // Always a new session (and token): a session fixed by someone else before sign-in is never reused.
  const storage = getSessionStorage()
  const old = await getSession(request)
  if (old.id) await storage.destroySession(old)
  const session = await storage.getSession()
  session.set('adminId', admin.id)
  session.set('email', admin.email)
  return redirect(redirectTo, { headers: { 'Set-Cookie': await storage.commitSession(session) } })
}

/** Ends this session on the server (its row goes), so a copy of the cookie stops working too. */
export async function signOut(request: Request) {
  const session = await getSession(request)
  return redirect('/login', { headers: { 'Set-Cookie': await getSessionStorage().destroySession(session) } })
}

// Control characters are dropped by URL parsers (so /\t/evil.example is //evil.example); backslashes
// are read as slashes.
const isUnsafeCharacter = (c: string) => c.charCodeAt(0) < 0x20 || c === '\x7f' || c === '\\'

/**
 * Where to go after sign-in: `to` resolved against the app's own origin, kept only if it stays there,
 * so `https://evil.example`, `//evil.example`, `/\\evil.example`, `%2F%2Fevil`, tabs, newlines and other
 * tricks land on `fallback`. Returns a path (with query and hash), never an absolute URL.
 */
export function safeRedirect(
  to: FormDataEntryValue | string | null | undefined,
  { fallback = '/products', origin = getEnv().APP_ORIGIN }: { fallback?: string; origin?: string } = {},
) {
  if (typeof to !== 'string' || to === '' || [...to].some(isUnsafeCharacter)) return fallback
  const base = new URL(origin)
  let resolved: URL
  try {
    resolved = new URL(to, base)
  } catch {
    return fallback
  }
  if (resolved.origin !== base.origin) return fallback
  // A path that decodes to another origin (/%2F%2Fevil.example) could be re-read as one downstream.
  let decoded: string
  try {
    decoded = decodeURIComponent(resolved.pathname)
  } catch {
    return fallback
  }
  if (decoded.startsWith('//') || decoded.includes('\\')) return fallback
  return `${resolved.pathname}${resolved.search}${resolved.hash}`
}
