import { redirect } from '@remix-run/node'
import { getAdmin, type Admin } from '~/models/admin.server'
import { getEnv } from './env.server'
import { isAllowedMutationOrigin } from './origin'
import { getSession, getSessionStorage } from './session.server'

// Every signed request of an upload checks its admin; a short memory spares the database those reads.
// A deleted admin loses access within ADMIN_CACHE_MS; signing out ends the session at once.
const ADMIN_CACHE_MS = 10_000
const adminCache = new Map<number, { admin: Admin | null; until: number }>()

async function findAdmin(adminId: number) {
  const now = Date.now()
  const hit = adminCache.get(adminId)
  if (hit && hit.until > now) return hit.admin
  const admin = await getAdmin({ adminId })
  if (adminCache.size >= 1000) adminCache.clear()
  adminCache.set(adminId, { admin, until: now + ADMIN_CACHE_MS })
  return admin
}

// The same Cookie header always verifies the same way, so its result is remembered as briefly.
const sessionCache = new Map<string, { adminId: number | null; until: number }>()

async function sessionAdminId(request: Request): Promise<number | null> {
  const header = request.headers.get('Cookie') ?? ''
  const now = Date.now()
  const hit = sessionCache.get(header)
  if (hit && hit.until > now) return hit.adminId
  const value = (await getSession(request)).get('adminId')
  const adminId = typeof value === 'number' ? value : null
  if (sessionCache.size >= 1000) sessionCache.clear()
  sessionCache.set(header, { adminId, until: now + ADMIN_CACHE_MS })
  return adminId
}

async function getSessionAdmin(request: Request): Promise<Admin | null> {
  const adminId = await sessionAdminId(request)
  return adminId === null ? null : findAdmin(adminId)
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
