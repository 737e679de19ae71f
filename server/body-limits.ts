import type { Express, NextFunction, Request, Response } from 'express'

const KiB = 1024
const MiB = 1024 * KiB

/**
 * The most a request body may hold, by route (Remix's single-fetch `.data` URLs included). Sign-in and
 * sign-out carry two short fields; a signing batch of 100 requests with their references, or a check of
 * 100 finished uploads' references, needs under 1 MiB. Multipart product forms stream their files
 * (app/uploads/form-stream.server.ts bounds them as they arrive).
 */
export const BODY_LIMITS: { path: RegExp; bytes: number; what: string; json?: boolean }[] = [
  { path: /^\/(login|logout)(\.data)?$/, bytes: 8 * KiB, what: 'A sign-in form' },
  { path: /^\/uploads\/sign(\.data)?$/, bytes: 1 * MiB, what: 'A signing request', json: true },
  { path: /^\/uploads\/check(\.data)?$/, bytes: 1 * MiB, what: 'An upload check', json: true },
]
/** Any URL-encoded form, on any route: the largest edit form (100 images with alt texts) is far smaller. */
export const URLENCODED_LIMIT = 1 * MiB

function limitFor(req: Request) {
  const route = BODY_LIMITS.find((limit) => limit.path.test(req.path))
  if (route) return route
  if (req.is('application/x-www-form-urlencoded'))
    return { bytes: URLENCODED_LIMIT, what: 'A form', json: false }
  return null
}

/** The slowest uplink the no-JavaScript form is sized for: 1 MiB/s, about 8 Mbit/s. */
export const SLOW_LINK_BYTES_PER_SECOND = 1024 * 1024

/**
 * How long one request may take: long enough for the largest form the limits allow (every image at its
 * largest) over a slow link, and never under Node's own five minutes.
 */
export function requestTimeoutMs({ maxImages, maxImageBytes }: { maxImages: number; maxImageBytes: number }) {
  return Math.max(300_000, Math.ceil((maxImages * maxImageBytes) / SLOW_LINK_BYTES_PER_SECOND) * 1000)
}

const format = (bytes: number) => (bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`)

/**
 * Refuses a bounded request from its headers, before a byte of its body is read: 413 when its
 * Content-Length is over the limit, 411 when it has none (a chunked body could be any size). Node's
 * HTTP parser holds a body to its Content-Length, so what passes is bounded. The connection closes, so
 * the unread rest of a refused body is never taken in.
 */
export function limitRequestBodies(app: Express) {
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next()
    const limit = limitFor(req)
    if (!limit) return next()
    const declared = req.get('Content-Length')
    const refuse = (status: 411 | 413, message: string) => {
      res.status(status).set('Connection', 'close')
      if (limit.json) res.json({ error: message })
      else res.type('text/plain').send(message)
    }
    if (declared === undefined) {
      if (req.get('Transfer-Encoding') === undefined) return next()
      return refuse(411, `${limit.what} must say its length (Content-Length); send it again.`)
    }
    if (Number(declared) > limit.bytes) {
      return refuse(
        413,
        `${limit.what} may be at most ${format(limit.bytes)}; this one is ${format(Number(declared))}.`,
      )
    }
    next()
  })
}
