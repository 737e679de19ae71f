import { createHash } from 'node:crypto'
import { randomUUID } from 'node:crypto'
import { expect, test } from '@playwright/test'
import { configureBucket } from '../../app/utils/bucket-config.server'
import { freePort } from '../../server/processes'
import { startAppServer, type AppServer } from '../support/app-server'
import { makePng } from '../support/images'
import { request, startProxy, type Proxy } from '../support/proxy'
import { s3ClientFor, TEST_ADMIN } from '../support/services'

// Two production servers on one PostgreSQL and one bucket, behind a round-robin proxy that keeps Host
// and is not sticky: what one server does, the other must see. Over HTTP, no browser.
const services = JSON.parse(process.env.E2E_SERVICES_ENV ?? '{}') as Record<string, string>
test.describe.configure({ mode: 'serial' })

let servers: AppServer[] = []
let ports: number[] = []
let proxy: Proxy
let origin: string

test.beforeAll(async () => {
  test.setTimeout(120_000)
  ports = [await freePort(), await freePort()]
  proxy = await startProxy({ targets: ports.map((port) => ({ host: '127.0.0.1', port })), host: 'keep' })
  origin = `http://localhost:${proxy.port}`
  const s3 = s3ClientFor(services)
  await configureBucket(s3, {
    bucket: services.S3_BUCKET!,
    origins: [process.env.E2E_PORT, process.env.E2E_SHORT_TTL_PORT, String(proxy.port)].map(
      (port) => `http://localhost:${port}`,
    ),
    stagingExpiryDays: 1,
  })
  s3.destroy()
  // The first runs the job worker; the second is a web server only, as a fleet runs them.
  servers = await Promise.all(
    ports.map((port, i) =>
      startAppServer({
        ...services,
        PORT: String(port),
        APP_ORIGIN: origin,
        RUN_WORKER: i === 0 ? 'true' : 'false',
      }),
    ),
  )
})

test.afterAll(async () => {
  for (const server of servers) await server.stop()
  await proxy?.stop()
})

const headers = (cookie?: string, extra: Record<string, string> = {}) => ({
  Host: new URL(origin).host,
  Origin: origin,
  ...(cookie ? { Cookie: cookie } : {}),
  ...extra,
})

/** One request through the proxy; `to` says which server must answer it (the proxy takes them in turn). */
async function via(to: 0 | 1, options: Parameters<typeof request>[1]) {
  if (ports[proxy.served.length % 2] !== ports[to]) {
    await request(proxy.port, { path: '/ping', headers: headers() })
  }
  const answer = await request(proxy.port, options)
  expect(proxy.served.at(-1), `${options.method ?? 'GET'} ${options.path} reached server ${to}`).toBe(
    ports[to],
  )
  return answer
}

async function signIn(to: 0 | 1) {
  const answer = await via(to, {
    method: 'POST',
    path: '/login',
    headers: headers(undefined, { 'Content-Type': 'application/x-www-form-urlencoded' }),
    body: new URLSearchParams({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }).toString(),
  })
  expect(answer.status).toBe(302)
  return answer.headers['set-cookie']![0]!.split(';')[0]!
}

test('an upload signed on one server is saved on the other, and a product deleted once loses its objects', async () => {
  const cookie = await signIn(0)
  const png = makePng(64, 48)
  const signed = await via(0, {
    method: 'POST',
    path: '/uploads/sign',
    headers: headers(cookie, { 'Content-Type': 'application/json' }),
    body: JSON.stringify({
      operation: 'putObject',
      fileName: 'fleet.png',
      contentType: 'image/png',
      size: png.length,
      md5: createHash('md5').update(png).digest('hex'),
    }),
  })
  expect(signed.status).toBe(200)
  const {
    url,
    headers: putHeaders,
    ref,
  } = JSON.parse(signed.body) as {
    url: string
    headers: Record<string, string>
    ref: string
  }
  expect((await fetch(url, { method: 'PUT', headers: putHeaders, body: new Uint8Array(png) })).status).toBe(
    200,
  )

  const form = await via(1, { path: '/products/new', headers: headers(cookie) })
  const idempotencyKey = /name="idempotencyKey" value="([^"]+)"/.exec(form.body)![1]!
  const name = `Fleet ${randomUUID().slice(0, 8)}`
  const saved = await via(1, {
    method: 'POST',
    path: '/products/new',
    headers: headers(cookie, { 'Content-Type': 'application/x-www-form-urlencoded' }),
    body: new URLSearchParams({
      name,
      price: '4.00',
      description: '',
      imageRef: ref,
      idempotencyKey,
    }).toString(),
  })
  expect(saved.status, saved.body.slice(0, 300)).toBe(302)
  const productPath = saved.headers.location!
  const page = await via(0, { path: productPath, headers: headers(cookie) })
  expect(page.body).toContain(name)

  const deleted = await via(1, { method: 'POST', path: `${productPath}/delete`, headers: headers(cookie) })
  expect(deleted.status).toBe(302)
  // The first server's worker deletes the objects; the product is gone on both.
  const productId = productPath.split('/').at(-1)!
  const s3 = s3ClientFor(services)
  try {
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3')
    await expect
      .poll(
        async () =>
          (
            await s3.send(
              new ListObjectsV2Command({ Bucket: services.S3_BUCKET!, Prefix: `originals/${productId}/` }),
            )
          ).KeyCount ?? 0,
        { timeout: 30_000 },
      )
      .toBe(0)
  } finally {
    s3.destroy()
  }
  for (const to of [0, 1] as const) {
    const gone = await via(to, { path: productPath, headers: headers(cookie) })
    expect(gone.status).toBe(404)
  }
})

test('a sign-out on one server ends the session on the other within 2 s', async () => {
  const cookie = await signIn(0)
  expect((await via(1, { path: '/products', headers: headers(cookie) })).status).toBe(200)
  const out = await via(0, { method: 'POST', path: '/logout', headers: headers(cookie) })
  expect(out.status).toBe(302)
  const signedOutAt = Date.now()
  await expect
    .poll(async () => (await via(1, { path: '/products', headers: headers(cookie) })).status, {
      timeout: 2_500,
    })
    .toBe(302)
  expect(Date.now() - signedOutAt).toBeLessThan(2_500)
})

test('sign-in throttling is shared: failures on either server count together', async () => {
  const email = `fleet-${randomUUID()}@example.com`
  const statuses: number[] = []
  for (let attempt = 0; attempt < 6; attempt++) {
    const answer = await via((attempt % 2) as 0 | 1, {
      method: 'POST',
      path: '/login',
      headers: headers(undefined, { 'Content-Type': 'application/x-www-form-urlencoded' }),
      body: new URLSearchParams({ email, password: 'wrong-password' }).toString(),
    })
    statuses.push(answer.status)
  }
  // Five free failures for an account, then the sixth waits, whichever server it reaches.
  expect(statuses).toEqual([401, 401, 401, 401, 401, 401])
  const seventh = await via(1, {
    method: 'POST',
    path: '/login',
    headers: headers(undefined, { 'Content-Type': 'application/x-www-form-urlencoded' }),
    body: new URLSearchParams({ email, password: 'wrong-password' }).toString(),
  })
  expect(seventh.status).toBe(429)
})
