import { createCookieSessionStorage } from '@remix-run/node'
import { getEnv } from './env.server'

type SessionData = { adminId: number }
type FlashData = { error: string }

let storage: ReturnType<typeof createSessionStorage> | undefined

function createSessionStorage() {
  const env = getEnv()
  return createCookieSessionStorage<SessionData, FlashData>({
    cookie: {
      name: '__session',
      httpOnly: true,
      sameSite: 'lax',
      secure: env.NODE_ENV === 'production' && env.APP_ORIGIN.startsWith('https:'),
      path: '/',
      maxAge: 60 * 60 * 24 * 7,
      secrets: [env.SESSION_SECRET],
    },
  })
}

export function getSessionStorage() {
  storage ??= createSessionStorage()
  return storage
}

export function getSession(request: Request) {
  return getSessionStorage().getSession(request.headers.get('Cookie'))
}
