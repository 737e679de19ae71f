import { randomBytes } from 'node:crypto'
import type { Express, NextFunction, Request, Response } from 'express'
import helmet from 'helmet'

export interface SecurityOptions {
  production: boolean
  /** Where the browser PUTs uploads and loads presigned images from. */
  bucketOrigin: string
  /** A CDN origin serving product images, if any. */
  publicBaseOrigin?: string
  /** Express's `trust proxy` value (see parseTrustProxy). */
  trustProxy: boolean | number | string
}

/**
 * TRUST_PROXY as Express's `trust proxy`: unset or `false` trusts no proxy (the socket's address is the
 * client's), `true` every proxy, a number that many hops, anything else a list of addresses or subnets.
 */
export function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (!value || value === 'false') return false
  if (value === 'true') return true
  if (/^\d+$/.test(value)) return Number(value)
  return value
}

/**
 * The uploader's digest worker (app/components/uploader/digest.worker.ts): as built into /assets, and
 * as Vite serves it in development.
 */
const DIGEST_WORKER =
  /^\/(?:assets\/digest\.worker-[\w-]+\.js|app\/components\/uploader\/digest\.worker\.ts)$/

/**
 * Helmet's headers on every response: a Content-Security-Policy with a fresh nonce per response for the
 * scripts Remix renders, no framing, nosniff, a Referrer-Policy, and HSTS on requests that came over
 * https. Pages default to `Cache-Control: no-store` (they show admin data); assets set their own.
 */
export function applySecurity(app: Express, options: SecurityOptions) {
  app.set('trust proxy', options.trustProxy)
  app.use((_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString('base64')
    next()
  })
  const nonce = (_req: unknown, res: unknown) => `'nonce-${(res as Response).locals.cspNonce as string}'`
  const images = [options.bucketOrigin, options.publicBaseOrigin].filter((o): o is string => Boolean(o))
  const directives = {
    'default-src': ["'self'"],
    // Remix's inline scripts carry the nonce; the modules they import come from 'self'.
    'script-src': ["'self'", nonce, "'strict-dynamic'"],
    'script-src-attr': ["'none'"],
    // The uploader's thumbnails and digests are made in workers, modules of their own from /assets.
    'worker-src': ["'self'"],
    // React renders style attributes; styles cannot run code.
    'style-src': ["'self'", "'unsafe-inline'"],
    // Thumbnails are blob: URLs; product images come from the bucket or the CDN.
    'img-src': ["'self'", 'data:', 'blob:', ...images],
    'connect-src': ["'self'", options.bucketOrigin, ...(options.production ? [] : ['ws:'])],
    'font-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'upgrade-insecure-requests': null,
  }
  const pagePolicy = helmet.contentSecurityPolicy({ useDefaults: false, directives })
  // A worker runs under the CSP of its own script's response (Chromium 156 enforces that, not the
  // page's). The digest worker compiles hash-wasm's WebAssembly, which needs 'wasm-unsafe-eval'; only
  // that script gets it, so no page or other script may compile WebAssembly.
  const wasmWorkerPolicy = helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: { ...directives, 'script-src': [...directives['script-src'], "'wasm-unsafe-eval'"] },
  })
  app.use((req, res, next) => (DIGEST_WORKER.test(req.path) ? wasmWorkerPolicy : pagePolicy)(req, res, next))
  app.use(
    helmet({
      contentSecurityPolicy: false,
      // HSTS only where it means something: set below for requests that came over https.
      strictTransportSecurity: false,
      referrerPolicy: { policy: 'same-origin' },
      xFrameOptions: { action: 'deny' },
      // Presigned images come from another origin without CORP headers.
      crossOriginEmbedderPolicy: false,
      crossOriginResourcePolicy: { policy: 'same-origin' },
    }),
  )
  const hsts = helmet.strictTransportSecurity({ maxAge: 365 * 24 * 60 * 60 })
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store')
    if (req.secure) return hsts(req, res, next)
    next()
  })
}
