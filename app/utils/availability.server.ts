import { HeadBucketCommand, S3ServiceException } from '@aws-sdk/client-s3'
import { getSql } from './db.server'
import { getEnv } from './env.server'
import { errorMessage } from './errors'
import { getS3 } from './storage.server'

export type Service = 'database' | 'storage'

/** A dependency did not answer (in time, or at all): the request cannot finish now, nothing is lost. */
export class ServiceUnavailableError extends Error {
  constructor(readonly service: Service) {
    super(UNAVAILABLE[service])
  }
}

/** What an admin reads when a dependency is down; the form they submitted comes back with it. */
export const UNAVAILABLE: Record<Service, string> = {
  database:
    'The database is not answering right now, so nothing was saved. Your text and images are kept below: try again in a minute.',
  storage:
    'Image storage is not answering right now, so nothing was saved. Your text and images are kept below: try again in a minute.',
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
])
// postgres.js's own codes for a connection that failed, and PostgreSQL's for a server going away,
// cancelling (statement_timeout) or out of connections.
const DATABASE_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  '57P01',
  '57P02',
  '57P03',
  '57014',
  '53300',
])

/** Which service an error says is unavailable, or null when it is some other failure. */
export function unavailableService(error: unknown): Service | null {
  if (error instanceof ServiceUnavailableError) return error.service
  if (!(error instanceof Error)) return null
  const code = (error as { code?: string }).code
  if (error instanceof S3ServiceException)
    return (error.$metadata.httpStatusCode ?? 0) >= 500 ? 'storage' : null
  if ('$metadata' in error || ['TimeoutError', 'RequestTimeout', 'NetworkingError'].includes(error.name)) {
    return 'storage'
  }
  if (code && DATABASE_CODES.has(code)) return 'database'
  // The SDK's network errors carry $metadata (above); a bare socket error is postgres.js's.
  if (code && NETWORK_CODES.has(code)) return 'database'
  return null
}

const LATE = Symbol('late')

/**
 * `work`, or `onTimeout()` if it has not settled `ms` after `startAfter` (at once by default). The work
 * itself goes on (a save that lands late is found again by its idempotency key); only the answer stops
 * waiting for it.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => T | Promise<T>,
  startAfter: Promise<unknown> = Promise.resolve(),
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  let settled = false
  const late = startAfter.then(
    () =>
      new Promise<typeof LATE>((resolve) => {
        if (!settled) timer = setTimeout(() => resolve(LATE), ms)
      }),
  )
  try {
    const first = await Promise.race([work, late])
    return first === LATE ? await onTimeout() : first
  } finally {
    settled = true
    clearTimeout(timer)
    work.catch(() => {})
  }
}

export type Status = 'ok' | 'unavailable'

/** ok, or unavailable with the reason in the server's log only: error text names hosts and users. */
async function probe(name: Service, check: () => Promise<unknown>, timeoutMs: number): Promise<Status> {
  try {
    await withDeadline(check(), timeoutMs, () => {
      throw new Error(`no answer in ${timeoutMs} ms`)
    })
    return 'ok'
  } catch (error) {
    console.error(`[availability] ${name} unavailable: ${errorMessage(error)}`)
    return 'unavailable'
  }
}

/** Asks PostgreSQL and the bucket at once whether they answer, each within `timeoutMs`. */
export async function checkServices(timeoutMs = 3_000): Promise<Record<Service, Status>> {
  const [database, storage] = await Promise.all([
    probe('database', () => getSql()`select 1`, timeoutMs),
    probe('storage', () => getS3().send(new HeadBucketCommand({ Bucket: getEnv().S3_BUCKET })), timeoutMs),
  ])
  return { database, storage }
}
