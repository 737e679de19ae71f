import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import pLimit from 'p-limit'

const PARAMS = { N: 16384, r: 8, p: 1 } as const
const KEY_BYTES = 64

/**
 * scrypt runs on libuv's thread pool (four threads), which S3 calls, DNS and file reads share: at most
 * HASH_CONCURRENCY hashes run at once, and past HASH_QUEUE_LIMIT waiting ones a new one is refused at
 * once, so a flood of sign-ins costs the flood, not every other request.
 */
export const HASH_CONCURRENCY = 2
export const HASH_QUEUE_LIMIT = 32
const hashing = pLimit(HASH_CONCURRENCY)

/** Too many password checks are waiting; the caller should answer "try again in a moment". */
export class PasswordHashingBusyError extends Error {
  constructor() {
    super('Too many sign-ins are being checked right now; try again in a few seconds.')
  }
}

/** How many hashes run and wait now (for tests and diagnostics). */
export function hashingLoad() {
  return { active: hashing.activeCount, waiting: hashing.pendingCount }
}

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  if (hashing.pendingCount >= HASH_QUEUE_LIMIT) return Promise.reject(new PasswordHashingBusyError())
  return hashing(() => deriveNow(password, salt, options))
}

function deriveNow(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_BYTES,
      { ...options, maxmem: 64 * 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  )
}

/** "scrypt$N$r$p$salt$hash", salt and hash in base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, PARAMS)
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  )
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const actual = await derive(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
