import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { addAdmin, ensureAdmin, listAdmins, removeAdmin, setAdminPassword } from '~/models/admin.server'
import { action as login, loader as loginPage } from '~/routes/login'
import type * as LoginRouteModule from '~/routes/login'
import { action as logout } from '~/routes/logout'
import { getOptionalAdmin } from '~/utils/auth.server'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { FREE_FAILURES } from '~/utils/login-throttle.server'
import { hashingLoad, hashPassword, PasswordHashingBusyError } from '~/utils/password.server'

const PASSWORD = 'a long enough password'

// Failed sign-ins are logged on purpose; one test below reads the log, the rest keep it quiet.
beforeAll(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => {})
})

async function newAdmin(label: string) {
  const email = `${label}-${randomUUID()}@example.com`
  return addAdmin({ email, password: PASSWORD })
}

/** Posts the sign-in form as a browser on `address` would; returns the Response or the form's data. */
async function signIn(
  email: string,
  password: string,
  address = `10.0.0.${Math.floor(Math.random() * 250)}`,
) {
  const origin = getEnv().APP_ORIGIN
  const result = await login({
    request: new Request(`${origin}/login`, {
      method: 'POST',
      headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, password, redirectTo: '/products' }),
    }),
    params: {},
    context: { clientAddress: address },
  })
  if (!('init' in result)) {
    return {
      status: result.status,
      cookie: result.headers.get('Set-Cookie')!.split(';')[0]!,
      location: result.headers.get('Location'),
      error: null,
    }
  }
  const init = result.init!
  return {
    status: init.status,
    retryAfter: new Headers(init.headers).get('Retry-After'),
    error: result.data.error?.['']?.join(' ') ?? null,
    cookie: null,
  }
}

async function signedInAs(cookie: string) {
  const admin = await getOptionalAdmin(
    new Request(`${getEnv().APP_ORIGIN}/products`, { headers: { Cookie: cookie } }),
  )
  return admin?.email ?? null
}

async function signOut(cookie: string) {
  const origin = getEnv().APP_ORIGIN
  const response = await logout({
    request: new Request(`${origin}/logout`, { method: 'POST', headers: { Origin: origin, Cookie: cookie } }),
    params: {},
    context: {},
  })
  expect(response.status).toBe(302)
}

describe('sessions live on the server', () => {
  it('signing out ends the session for every copy of its cookie', async () => {
    const admin = await newAdmin('signout')
    const { cookie } = await signIn(admin.email, PASSWORD)
    const copy = `${cookie}`
    expect(await signedInAs(cookie!)).toBe(admin.email)
    await signOut(cookie!)
    expect(await signedInAs(copy)).toBeNull()
  })

  it('a password change ends every session of that admin, and only that admin', async () => {
    const admin = await newAdmin('password')
    const other = await newAdmin('bystander')
    const laptop = (await signIn(admin.email, PASSWORD)).cookie!
    const phone = (await signIn(admin.email, PASSWORD)).cookie!
    const bystander = (await signIn(other.email, PASSWORD)).cookie!
    await setAdminPassword({ email: admin.email, password: 'the new password 123' })
    expect(await signedInAs(laptop)).toBeNull()
    expect(await signedInAs(phone)).toBeNull()
    expect(await signedInAs(bystander)).toBe(other.email)
    expect((await signIn(admin.email, PASSWORD)).status).toBe(401)
    expect((await signIn(admin.email, 'the new password 123')).status).toBe(302)
  })

  it('removing an admin ends its sessions and its sign-ins', async () => {
    const admin = await newAdmin('removed')
    const { cookie } = await signIn(admin.email, PASSWORD)
    await removeAdmin({ email: admin.email })
    expect(await signedInAs(cookie!)).toBeNull()
    expect((await signIn(admin.email, PASSWORD)).status).toBe(401)
    expect((await listAdmins()).some((a) => a.email === admin.email)).toBe(false)
  })

  it('a session revoked on another server stops working here within a second', async () => {
    const admin = await newAdmin('elsewhere')
    const { cookie } = await signIn(admin.email, PASSWORD)
    expect(await signedInAs(cookie!)).toBe(admin.email)
    // Another server signs it out: the row goes, this server has not heard.
    await getSql()`delete from admin_sessions where admin_id = ${admin.id}`
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 1_001 })
    try {
      expect(await signedInAs(cookie!)).toBeNull()
    } finally {
      vi.useRealTimers()
    }
  })

  it('a session past its maximum age is refused, whatever its cookie says', async () => {
    const admin = await newAdmin('old-session')
    const { cookie } = await signIn(admin.email, PASSWORD)
    await getSql()`update admin_sessions set expires_at = now() - interval '1 second' where admin_id = ${admin.id}`
    expect(await signedInAs(cookie!)).toBeNull()
  })

  it('signing in again never reuses the session the browser came with', async () => {
    const admin = await newAdmin('fixation')
    const first = (await signIn(admin.email, PASSWORD)).cookie!
    const origin = getEnv().APP_ORIGIN
    const again = await login({
      request: new Request(`${origin}/login`, {
        method: 'POST',
        headers: { Origin: origin, Cookie: first, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: admin.email, password: PASSWORD }),
      }),
      params: {},
      context: { clientAddress: '10.9.9.9' },
    })
    const second = (again as Response).headers.get('Set-Cookie')!.split(';')[0]!
    expect(second).not.toBe(first)
    expect(await signedInAs(first)).toBeNull()
    expect(await signedInAs(second)).toBe(admin.email)
  })

  it('a cookie signed before a rotation of SESSION_SECRET works while SESSION_SECRET_PREVIOUS is the old one', async () => {
    const admin = await newAdmin('rotation')
    const { cookie } = await signIn(admin.email, PASSWORD)
    const original = process.env.SESSION_SECRET!
    const afterRotation = async (previous: string | undefined) => {
      process.env.SESSION_SECRET = 'the-secret-after-rotation-Zq3v9XkP0rT2mW8yB5nL'
      if (previous) process.env.SESSION_SECRET_PREVIOUS = previous
      else delete process.env.SESSION_SECRET_PREVIOUS
      vi.resetModules()
      const server = await import('~/utils/auth.server')
      const request = new Request(`${getEnv().APP_ORIGIN}/products`, { headers: { Cookie: cookie! } })
      return (await server.getOptionalAdmin(request))?.email ?? null
    }
    try {
      expect(await afterRotation(original)).toBe(admin.email)
      expect(await afterRotation(undefined)).toBeNull()
    } finally {
      process.env.SESSION_SECRET = original
      delete process.env.SESSION_SECRET_PREVIOUS
      vi.resetModules()
    }
  })

  it('keeps only a hash of each token in the database', async () => {
    const admin = await newAdmin('hashed')
    const { cookie } = await signIn(admin.email, PASSWORD)
    const token = decodeURIComponent(cookie!.split('=')[1]!)
    const rows = await getSql()<{ id: string }[]>`select id from admin_sessions where admin_id = ${admin.id}`
    expect(rows).toHaveLength(1)
    expect(token).not.toContain(rows[0]!.id)
  })
})

/** The attributes of a Set-Cookie header, lower-cased, e.g. { httponly: '', samesite: 'lax', path: '/' }. */
function cookieAttributes(setCookie: string) {
  const [pair, ...attributes] = setCookie.split(/;\s*/)
  const name = pair!.slice(0, pair!.indexOf('='))
  const flags = Object.fromEntries(
    attributes.map((a) => {
      const [key, value = ''] = a.split('=')
      return [key!.toLowerCase(), value.toLowerCase()]
    }),
  )
  return { name, flags }
}

type LoginRoute = typeof LoginRouteModule

/** The sign-in route of a server whose APP_ORIGIN is `appOrigin` (fresh modules: settings are read once). */
async function withAppOrigin<T>(appOrigin: string, run: (route: LoginRoute) => Promise<T>) {
  const original = process.env.APP_ORIGIN
  process.env.APP_ORIGIN = appOrigin
  vi.resetModules()
  try {
    return await run(await import('~/routes/login'))
  } finally {
    process.env.APP_ORIGIN = original
    vi.resetModules()
  }
}

/** What /login answers the browser that follows sign-in's redirect to `location` with `cookie` (or none). */
async function followSignIn(location: string, cookie: string | null, route = loginPage) {
  const url = new URL(location, getEnv().APP_ORIGIN)
  try {
    const page = await route({
      request: new Request(url, { headers: cookie ? { Cookie: cookie } : {} }),
      params: {},
      context: {},
    })
    return { redirect: null, cookieProblem: page.cookieProblem }
  } catch (thrown) {
    if (!(thrown instanceof Response)) throw thrown
    return { redirect: thrown.headers.get('Location'), cookieProblem: null }
  }
}

describe('the session cookie follows the scheme of APP_ORIGIN', () => {
  it('over http (localhost) it is __session, httpOnly and SameSite=Lax, and not Secure, which WebKit would drop', async () => {
    expect(getEnv().APP_ORIGIN).toMatch(/^http:\/\/localhost:/)
    const admin = await newAdmin('http-cookie')
    const origin = getEnv().APP_ORIGIN
    const response = (await login({
      request: new Request(`${origin}/login`, {
        method: 'POST',
        headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email: admin.email, password: PASSWORD }),
      }),
      params: {},
      context: { clientAddress: '10.8.8.8' },
    })) as Response
    const { name, flags } = cookieAttributes(response.headers.get('Set-Cookie')!)
    expect(name).toBe('__session')
    expect(flags).toMatchObject({ httponly: '', samesite: 'lax', path: '/' })
    expect(flags).not.toHaveProperty('secure')
    expect(flags).not.toHaveProperty('domain')
  })

  it('over https it is __Host-session: Secure, httpOnly, SameSite=Lax, on path / and host-only', async () => {
    const admin = await newAdmin('https-cookie')
    const origin = 'https://admin.shop.example'
    const setCookie = await withAppOrigin(origin, async (route) => {
      const response = (await route.action({
        request: new Request(`${origin}/login`, {
          method: 'POST',
          headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ email: admin.email, password: PASSWORD }),
        }),
        params: {},
        context: { clientAddress: '10.8.8.9' },
      })) as Response
      expect(response.status).toBe(302)
      return response.headers.get('Set-Cookie')!
    })
    const { name, flags } = cookieAttributes(setCookie)
    expect(name).toBe('__Host-session')
    expect(flags).toMatchObject({ secure: '', httponly: '', samesite: 'lax', path: '/' })
    expect(flags).not.toHaveProperty('domain')
  })
})

describe('sign-in checks that the session cookie came back', () => {
  it('a browser that sends the new cookie back goes on to redirectTo', async () => {
    const admin = await newAdmin('cookie-kept')
    const { cookie, location } = await signIn(admin.email, PASSWORD)
    expect(await followSignIn(location!, cookie)).toEqual({ redirect: '/products', cookieProblem: null })
  })

  it('keeps redirectTo through the check, and still refuses one that leaves the app', async () => {
    const admin = await newAdmin('cookie-redirect')
    const origin = getEnv().APP_ORIGIN
    const signInTo = async (redirectTo: string) => {
      const response = (await login({
        request: new Request(`${origin}/login`, {
          method: 'POST',
          headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ email: admin.email, password: PASSWORD, redirectTo }),
        }),
        params: {},
        context: { clientAddress: '10.7.7.7' },
      })) as Response
      const cookie = response.headers.get('Set-Cookie')!.split(';')[0]!
      return (await followSignIn(response.headers.get('Location')!, cookie)).redirect
    }
    expect(await signInTo('/products/new?from=list')).toBe('/products/new?from=list')
    expect(await signInTo('//evil.example/products')).toBe('/products')
  })

  it('a browser that kept no cookie is told why and which address to use, instead of the bare form', async () => {
    const admin = await newAdmin('cookie-dropped')
    const { location } = await signIn(admin.email, PASSWORD)
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const { redirect, cookieProblem } = await followSignIn(location!, null)
      expect(redirect).toBeNull()
      expect(cookieProblem).toMatch(/^You signed in, but your browser did not keep the session cookie/)
      expect(cookieProblem).toContain('Allow cookies for this site')
      expect(cookieProblem).toContain(getEnv().APP_ORIGIN)
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/^\[auth\] signed in, but the browser sent no session cookie/),
      )
    } finally {
      warn.mockRestore()
    }
  })

  it('an https app whose cookie a browser on http dropped says so too', async () => {
    const origin = 'https://admin.shop.example'
    const answer = await withAppOrigin(origin, (route) =>
      followSignIn(`/login?redirectTo=%2Fproducts&cookie-check=${Date.now()}`, null, route.loader),
    )
    expect(answer.cookieProblem).toContain(`open it at ${origin}`)
  })

  it('the sign-in page on its own, or after a session that has since ended, is the plain form', async () => {
    const admin = await newAdmin('cookie-ended')
    const { cookie, location } = await signIn(admin.email, PASSWORD)
    expect(await followSignIn('/login?redirectTo=%2Fproducts', null)).toEqual({
      redirect: null,
      cookieProblem: null,
    })
    await signOut(cookie!)
    expect(await followSignIn(location!, cookie)).toEqual({ redirect: null, cookieProblem: null })
  })

  it('a check URL opened again later (a bookmark, the back button) is the plain form', async () => {
    const admin = await newAdmin('cookie-later')
    const { location } = await signIn(admin.email, PASSWORD)
    vi.useFakeTimers({ now: Date.now() + 61_000, toFake: ['Date'] })
    try {
      expect(await followSignIn(location!, null)).toEqual({ redirect: null, cookieProblem: null })
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('admins named by ADMIN_EMAIL', () => {
  it('an env admin that ADMIN_EMAIL no longer names cannot sign in; command-added admins still can', async () => {
    const sql = getSql()
    // Scoped to this test: the rows it creates, and the start-up rule applied as a fresh database would.
    const before = `env-before-${randomUUID()}@example.com`
    const after = `env-after-${randomUUID()}@example.com`
    await ensureAdmin({ email: before, password: PASSWORD })
    const session = (await signIn(before, PASSWORD)).cookie!
    const added = await newAdmin('added')
    await ensureAdmin({ email: after, password: PASSWORD })
    try {
      expect((await signIn(before, PASSWORD)).status).toBe(401)
      expect(await signedInAs(session)).toBeNull()
      expect((await signIn(after, PASSWORD)).status).toBe(302)
      expect((await signIn(added.email, PASSWORD)).status).toBe(302)
      // Named again: it signs in again.
      await ensureAdmin({ email: before, password: PASSWORD })
      expect((await signIn(before, PASSWORD)).status).toBe(302)
    } finally {
      // The test servers' own admin is an env admin too: give it back its place.
      await ensureAdmin({ email: process.env.ADMIN_EMAIL!, password: process.env.ADMIN_PASSWORD! })
      await sql`delete from admins where email in ${sql([before, after])}`
    }
  })

  it('changing ADMIN_PASSWORD ends the sessions of that admin', async () => {
    const email = `env-rotate-${randomUUID()}@example.com`
    try {
      await ensureAdmin({ email, password: PASSWORD })
      const { cookie } = await signIn(email, PASSWORD)
      await ensureAdmin({ email, password: PASSWORD })
      expect(await signedInAs(cookie!)).toBe(email)
      await ensureAdmin({ email, password: 'another env password' })
      expect(await signedInAs(cookie!)).toBeNull()
    } finally {
      await ensureAdmin({ email: process.env.ADMIN_EMAIL!, password: process.env.ADMIN_PASSWORD! })
      await getSql()`delete from admins where email = ${email}`
    }
  })
})

describe('sign-in throttling', () => {
  /** Lets the wait the last failure earned run out, as time would. */
  const endWaits = (key: string) =>
    getSql()`update login_limits set expire = 0 where key like ${`wait:%${key}%`}`

  it('failures earn growing waits; meanwhile a 429 says when to try again, even for the right password', async () => {
    const admin = await newAdmin('throttled')
    const address = `192.0.2.${Math.floor(Math.random() * 250)}`
    for (let i = 0; i < FREE_FAILURES.account; i++) {
      const attempt = await signIn(admin.email, 'wrong', address)
      expect(attempt).toMatchObject({ status: 401, error: 'That email and password do not match an admin.' })
    }
    const waits: number[] = []
    for (let i = 0; i < 4; i++) {
      const failed = await signIn(admin.email, 'wrong', address)
      expect(failed.status).toBe(401)
      expect(failed.error).toMatch(/Too many failed sign-ins\. Try again in \d+ seconds?\./)
      const refused = await signIn(admin.email, PASSWORD, address)
      expect(refused.status).toBe(429)
      expect(refused.error).toMatch(/^Too many failed sign-ins\. Try again in \d+ seconds?\.$/)
      waits.push(Number(refused.retryAfter))
      await endWaits(admin.email)
    }
    expect(waits).toEqual([1, 2, 4, 8])
    // From another address too: the account itself is throttled.
    await signIn(admin.email, 'wrong', '198.51.100.1')
    expect((await signIn(admin.email, PASSWORD, '198.51.100.2')).status).toBe(429)
    await endWaits(admin.email)
    // Success forgets the account's failures: the next failure is free again.
    expect((await signIn(admin.email, PASSWORD, address)).status).toBe(302)
    expect((await signIn(admin.email, 'wrong', address)).error).toBe(
      'That email and password do not match an admin.',
    )
  })

  it('one address failing on many accounts is throttled too', async () => {
    const address = `203.0.113.${Math.floor(Math.random() * 250)}`
    for (let i = 0; i < FREE_FAILURES.address; i++) {
      expect((await signIn(`nobody-${i}-${randomUUID()}@example.com`, 'wrong', address)).status).toBe(401)
    }
    expect((await signIn(`nobody-${randomUUID()}@example.com`, 'wrong', address)).error).toMatch(
      /Try again in 1 second\./,
    )
    const admin = await newAdmin('shared-address')
    expect((await signIn(admin.email, PASSWORD, address)).status).toBe(429)
    expect((await signIn(admin.email, PASSWORD, '203.0.113.251')).status).toBe(302)
  })

  it('the waits are kept in PostgreSQL, so every app server sees them', async () => {
    const admin = await newAdmin('shared-store')
    const address = '192.0.2.77'
    for (let i = 0; i <= FREE_FAILURES.account; i++) await signIn(admin.email, 'wrong', address)
    vi.resetModules()
    const otherServer = await import('~/utils/login-throttle.server')
    expect(await otherServer.loginWaitSeconds({ email: admin.email, address: '192.0.2.78' })).toBeGreaterThan(
      0,
    )
  })

  it('failed sign-ins are logged with the account and the address', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      await signIn('someone@example.com', 'wrong', '192.0.2.99')
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/^\[auth\] failed sign-in for "someone@example.com" from "192.0.2.99"/),
      )
    } finally {
      warn.mockRestore()
    }
  })

  it('hashes at most two passwords at once and refuses a flood past the queue at once', async () => {
    let maxActive = 0
    const sample = setInterval(() => (maxActive = Math.max(maxActive, hashingLoad().active)), 1)
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => hashPassword('flood')))
    clearInterval(sample)
    const refused = results.filter((r) => r.status === 'rejected')
    expect(refused.length).toBeGreaterThan(0)
    expect(
      refused.every((r) => (r as PromiseRejectedResult).reason instanceof PasswordHashingBusyError),
    ).toBe(true)
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(32)
    expect(maxActive).toBeLessThanOrEqual(2)
    expect(maxActive).toBeGreaterThan(0)
  })
})
