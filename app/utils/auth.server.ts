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
  // Back through /login, whose loader sends a browser that returned the cookie on to redirectTo and
  // tells one that did not why it is still signed out (cookieProblem), instead of the bare form again.
  const check = `/login?${new URLSearchParams({ redirectTo, [COOKIE_CHECK_PARAM]: String(Date.now()) })}`
  return redirect(check, { headers: { 'Set-Cookie': await storage.commitSession(session) } })
}

/** Marks the request that follows a sign-in, with its time, so /login sees whether the cookie came back. */
const COOKIE_CHECK_PARAM = 'cookie-check'
/** A check older than this is a reload or a bookmark, not a sign-in's redirect: the plain form answers. */
const COOKIE_CHECK_MS = 60_000

/**
 * On the request right after a sign-in (the redirect signIn answers, within a minute), a message for an
 * admin whose browser did not send the new session cookie back: it blocks cookies, or the page's address
 * is not APP_ORIGIN's (a Secure cookie over http). Null on any other request, or when a session cookie
 * came back (then it was revoked since, and the plain form is the right answer).
 */
export async function cookieProblem(request: Request): Promise<string | null> {
  const issued = Number(new URL(request.url).searchParams.get(COOKIE_CHECK_PARAM))
  if (!(Date.now() - issued < COOKIE_CHECK_MS)) return null
  // A cookie that parses (signed with our secret) has an id, even when its session is gone.
  if ((await getSession(request)).id) return null
  const appOrigin = getEnv().APP_ORIGIN
  console.warn(
    `[auth] signed in, but the browser sent no session cookie back to ${new URL(request.url).origin} ` +
      `(APP_ORIGIN ${appOrigin}; ${JSON.stringify(request.headers.get('User-Agent') ?? '')})`,
  )
  return (
    'You signed in, but your browser did not keep the session cookie, so you are still signed out. ' +
    `Allow cookies for this site, open it at ${appOrigin} (the address it is set up for), and sign in again.`
  )
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
