import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, describe, expect, it } from 'vitest'
import { parseTrustProxy, applySecurity, type SecurityOptions } from '../../server/security'

// The app server's own middleware on a bare Express app: what any response of the app carries.
const servers: { close(): void }[] = []
afterAll(() => servers.forEach((s) => s.close()))

async function serve(options: Partial<SecurityOptions> = {}) {
  const app = express()
  applySecurity(app, {
    production: true,
    bucketOrigin: 'https://bucket.s3.eu-west-1.amazonaws.com',
    publicBaseOrigin: 'https://images.shop.example',
    trustProxy: false,
    ...options,
  })
  app.get('/whoami', (req, res) => res.json({ ip: req.ip, secure: req.secure }))
  const server = app.listen(0, '127.0.0.1')
  servers.push(server)
  await new Promise((resolve) => server.once('listening', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('security headers', () => {
  it('enforce a Content-Security-Policy with a fresh nonce per response', async () => {
    const url = await serve()
    const [a, b] = await Promise.all([fetch(`${url}/whoami`), fetch(`${url}/whoami`)])
    expect(a.headers.get('Content-Security-Policy-Report-Only')).toBeNull()
    const csp = a.headers.get('Content-Security-Policy')!
    const directive = (name: string) => csp.split(';').find((d) => d.startsWith(`${name} `))
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(directive('script-src')!)![1]!
    expect(nonce.length).toBeGreaterThanOrEqual(20)
    expect(b.headers.get('Content-Security-Policy')).not.toContain(nonce)
    expect(directive('script-src')).not.toContain('unsafe-inline')
    expect(directive('frame-ancestors')).toBe("frame-ancestors 'none'")
    expect(directive('object-src')).toBe("object-src 'none'")
    expect(directive('img-src')).toContain('https://bucket.s3.eu-west-1.amazonaws.com')
    expect(directive('img-src')).toContain('https://images.shop.example')
    expect(directive('connect-src')).toBe("connect-src 'self' https://bucket.s3.eu-west-1.amazonaws.com")
  })

  it('refuse framing and sniffing, keep the referrer on the site and keep pages out of caches', async () => {
    const response = await fetch(`${await serve()}/whoami`)
    expect(response.headers.get('X-Frame-Options')).toBe('DENY')
    expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff')
    expect(response.headers.get('Referrer-Policy')).toBe('same-origin')
    expect(response.headers.get('Cache-Control')).toBe('no-store')
    expect(response.headers.get('X-Powered-By')).toBeNull()
  })

  it('send HSTS only over https, and believe a proxy about that only when TRUST_PROXY says so', async () => {
    const direct = await serve()
    const proxied = await serve({ trustProxy: parseTrustProxy('loopback') })
    const overHttps = { 'X-Forwarded-Proto': 'https' }
    expect((await fetch(`${direct}/whoami`)).headers.get('Strict-Transport-Security')).toBeNull()
    expect(
      (await fetch(`${direct}/whoami`, { headers: overHttps })).headers.get('Strict-Transport-Security'),
    ).toBeNull()
    expect(
      (await fetch(`${proxied}/whoami`, { headers: overHttps })).headers.get('Strict-Transport-Security'),
    ).toBe('max-age=31536000; includeSubDomains')
  })

  it('take the client address from the socket unless TRUST_PROXY names the proxy', async () => {
    const spoofed = { 'X-Forwarded-For': '203.0.113.9' }
    const direct = await (await fetch(`${await serve()}/whoami`, { headers: spoofed })).json()
    expect(direct.ip).toBe('127.0.0.1')
    const oneHop = await serve({ trustProxy: parseTrustProxy('1') })
    expect((await (await fetch(`${oneHop}/whoami`, { headers: spoofed })).json()).ip).toBe('203.0.113.9')
  })

  it('read TRUST_PROXY as Express does', () => {
    expect(parseTrustProxy(undefined)).toBe(false)
    expect(parseTrustProxy('false')).toBe(false)
    expect(parseTrustProxy('true')).toBe(true)
    expect(parseTrustProxy('2')).toBe(2)
    expect(parseTrustProxy('loopback, 10.0.0.0/8')).toBe('loopback, 10.0.0.0/8')
  })
})
