import { expect, test } from '@playwright/test'
import { freePort } from '../../server/processes'
import { startAppServer, type AppServer } from '../support/app-server'
import { startProxy, request, type Proxy } from '../support/proxy'
import { TEST_ADMIN } from '../support/services'

// No browser: what the proxies pass on, and what the server answers, over HTTP.
const services = JSON.parse(process.env.E2E_SERVICES_ENV ?? '{}') as Record<string, string>

let app: AppServer
let appPort: number
/** The address admins use: what every client below puts in Host and Origin. */
let publicHost: string
const proxies: Record<'keepsHost' | 'forwards' | 'bare' | 'bareUnlisted', Proxy> = {} as never

test.beforeAll(async () => {
  test.setTimeout(120_000)
  appPort = await freePort()
  proxies.keepsHost = await startProxy({ targets: [{ host: '127.0.0.1', port: appPort }], host: 'keep' })
  publicHost = `localhost:${proxies.keepsHost.port}`
  proxies.forwards = await startProxy({
    targets: [{ host: '127.0.0.1', port: appPort }],
    host: 'rewrite',
    forwarded: true,
  })
  proxies.bare = await startProxy({ targets: [{ host: '127.0.0.1', port: appPort }], host: 'rewrite' })
  // The same server under a name no setting lists.
  proxies.bareUnlisted = await startProxy({
    targets: [{ host: 'localhost', port: appPort }],
    host: 'rewrite',
  })
  app = await startAppServer({
    ...services,
    PORT: String(appPort),
    APP_ORIGIN: `http://${publicHost}`,
    TRUST_PROXY: 'loopback',
    // The bare proxy's address, as an operator whose proxy cannot pass Host on would set it.
    ALLOWED_HOSTS: `127.0.0.1:${appPort}`,
    RUN_WORKER: 'false',
  })
})

test.afterAll(async () => {
  await app?.stop()
  for (const proxy of Object.values(proxies)) await proxy?.stop()
})

const signIn = (port: number, headers: Record<string, string> = {}) =>
  request(port, {
    method: 'POST',
    path: '/login',
    headers: {
      Host: publicHost,
      Origin: `http://${publicHost}`,
      'Content-Type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body: new URLSearchParams({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }).toString(),
  })

test('behind a proxy that keeps Host, one that forwards it, and one that rewrites it bare, sign-in works and pages load', async () => {
  for (const [name, proxy] of Object.entries({
    keepsHost: proxies.keepsHost,
    forwards: proxies.forwards,
    bare: proxies.bare,
  })) {
    const answer = await signIn(proxy.port)
    expect(answer.status, `${name}: ${answer.body}`).toBe(302)
    expect(answer.headers['set-cookie']?.[0], name).toMatch(/^__session=/)
    // Redirects name the app's own address, never the proxy's internal one.
    expect(answer.headers.location, name).toMatch(/^\/login\?/)
    const cookie = answer.headers['set-cookie']![0]!.split(';')[0]!
    const page = await request(proxy.port, {
      path: '/products/new',
      headers: { Host: publicHost, Cookie: cookie },
    })
    expect(page.status, name).toBe(200)
    expect(page.body, name).toContain('New product')
  }
})

test('a localhost APP_ORIGIN is also the app at 127.0.0.1, as a developer opens it', async () => {
  const alias = `127.0.0.1:${proxies.keepsHost.port}`
  const answer = await signIn(proxies.keepsHost.port, { Host: alias, Origin: `http://${alias}` })
  expect(answer.status, answer.body).toBe(302)
})

test('a proxy that rewrites Host bare to an address no setting names gets a 421 that says what to set, never a 500', async () => {
  const page = await request(proxies.bareUnlisted.port, { path: '/products', headers: { Host: publicHost } })
  expect(page.status).toBe(421)
  expect(page.body).toContain(`This server answers as http://${publicHost}`)
  expect(page.body).toContain('ALLOWED_HOSTS')
  const post = await signIn(proxies.bareUnlisted.port)
  expect(post.status).toBe(421)
  // A load balancer's health check names the server by its own address and still gets through.
  const health = await request(proxies.bareUnlisted.port, { path: '/healthz', headers: { Host: publicHost } })
  expect(health.status).toBe(200)
})

test('a post whose Host and Origin both name another site is refused, and one whose Origin alone does', async () => {
  const forged = await signIn(appPort, { Host: 'evil.example', Origin: 'http://evil.example' })
  expect(forged.status).toBe(421)
  const foreignOrigin = await signIn(proxies.keepsHost.port, { Origin: 'http://evil.example' })
  expect(foreignOrigin.status).toBe(403)
  expect(foreignOrigin.body).toContain(`only accepts posts from http://${publicHost}`)
  // Not even through a proxy that forwards the forged host.
  const forwardedForgery = await signIn(proxies.forwards.port, {
    Host: 'evil.example',
    Origin: 'http://evil.example',
  })
  expect(forwardedForgery.status).toBe(421)
})
