import { createHash, randomBytes } from 'node:crypto'
import { createSessionStorage } from '@remix-run/node'
import { LRUCache } from 'lru-cache'
import { WALL_CLOCK } from './wall-clock'
import { unavailableService, withDeadline } from './availability.server'
import { getSql } from './db.server'
import { getEnv } from './env.server'

/** The hard limit of a session, whatever its cookie says: after it, the admin signs in again. */
export const SESSION_MAX_AGE_SECONDS = 60 * 60 * 24 * 7

type SessionData = { adminId: number; email: string }
type FlashData = { error: string }

/** What the table keeps of a token: its hash, so a database leak holds no usable cookie. */
const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url')

let storage: ReturnType<typeof createAdminSessionStorage> | undefined

/**
 * The session cookie's name and Secure flag, from the scheme of APP_ORIGIN (the address admins use), in
 * production and development alike. Over https it is `__Host-session`: the browser refuses it unless it
 * is Secure, host-only and on path /. Over http (localhost) it is `__session` without Secure, because
 * WebKit (Safari) never stores a Secure cookie that came over http, localhost included.
 */
export function sessionCookieFor(appOrigin: string): { name: string; secure: boolean } {
  const secure = new URL(appOrigin).protocol === 'https:'
  return { name: secure ? '__Host-session' : '__session', secure }
}

/** How long a session read may wait for the database before the outage fallback answers. */
const READ_DEADLINE_MS = 3_000
/**
 * A Cookie header verified this recently is not verified again (getSessionData): the uploader signs every
 * part of every file with the same cookie. Revocations on this server forget it at once
 * (forgetVerifiedSessions); on other servers a revoked session lasts at most this long.
 */
const FRESH_MS = 1_000
/**
 * While the database is down nothing can be revoked, so a session this server verified within the last
 * OUTAGE_GRACE_MS stays good until it answers again: an admin mid-form gets the form back, not a 500.
 */
const OUTAGE_GRACE_MS = 60_000
const recentlyVerified = new LRUCache<string, SessionData>({
  max: 10_000,
  ttl: OUTAGE_GRACE_MS,
  perf: WALL_CLOCK,
})

async function readSession(id: string): Promise<SessionData | null> {
  const [row] = await getSql()<{ adminId: number; email: string }[]>`
    select a.id as "adminId", a.email
    from admin_sessions s join admins a on a.id = s.admin_id
    where s.id = ${id} and s.expires_at > now() and a.disabled_at is null`
  return row ? { adminId: Number(row.adminId), email: row.email } : null
}

/**
 * Sessions live in PostgreSQL (`admin_sessions`); the cookie carries only a random token signed with
 * SESSION_SECRET (SESSION_SECRET_PREVIOUS still verifies). Reading a session checks its row, its
 * maximum age and that its admin may still sign in, in one query, so a revoked session ends on every
 * app server (within FRESH_MS on the ones that did not revoke it).
 */
function createAdminSessionStorage() {
  const env = getEnv()
  const { name, secure } = sessionCookieFor(env.APP_ORIGIN)
  return createSessionStorage<SessionData, FlashData>({
    cookie: {
      name,
      httpOnly: true,
      sameSite: 'lax',
      secure,
      path: '/',
      maxAge: SESSION_MAX_AGE_SECONDS,
      secrets: [env.SESSION_SECRET, ...(env.SESSION_SECRET_PREVIOUS ? [env.SESSION_SECRET_PREVIOUS] : [])],
    },
    async createData(data) {
      if (typeof data.adminId !== 'number') throw new Error('A session needs an adminId')
      const token = randomBytes(32).toString('base64url')
      await getSql()`
        insert into admin_sessions (id, admin_id, expires_at)
        values (${tokenHash(token)}, ${data.adminId}, now() + ${SESSION_MAX_AGE_SECONDS} * interval '1 second')`
      return token
    },
    async readData(token) {
      const id = tokenHash(token)
      const outage = () => {
        return recentlyVerified.get(id) ?? null
      }
      try {
        let late = false
        const data = await withDeadline(readSession(id), READ_DEADLINE_MS, () => {
          late = true
          return outage()
        })
        if (late) return data
        if (data) recentlyVerified.set(id, data)
        else recentlyVerified.delete(id)
        return data
      } catch (error) {
        if (unavailableService(error) === 'database') return outage()
        throw error
      }
    },
    // A session's only data is its admin, fixed at sign-in; flash messages are not kept server-side.
    async updateData() {},
    async deleteData(token) {
      forgetVerifiedSessions()
      await getSql()`delete from admin_sessions where id = ${tokenHash(token)}`
    },
  })
}

/** Forgets every session this server verified, so that a revocation made here holds on the next request. */
export function forgetVerifiedSessions() {
  recentlyVerified.clear()
  byCookie.clear()
}

// The same Cookie header within FRESH_MS answers without verifying its signature again.
const byCookie = new LRUCache<string, { data: SessionData | null }>({
  max: 10_000,
  ttl: FRESH_MS,
  perf: WALL_CLOCK,
})

/** The signed-in admin's session data of a request, or null. */
export async function getSessionData(request: Request): Promise<SessionData | null> {
  const header = request.headers.get('Cookie') ?? ''
  const hit = byCookie.get(header)
  if (hit) return hit.data
  const session = await getSession(request)
  const adminId = session.get('adminId')
  const email = session.get('email')
  const data = typeof adminId === 'number' && typeof email === 'string' ? { adminId, email } : null
  byCookie.set(header, { data })
  return data
}

export function getSessionStorage() {
  storage ??= createAdminSessionStorage()
  return storage
}

export function getSession(request: Request) {
  return getSessionStorage().getSession(request.headers.get('Cookie'))
}
