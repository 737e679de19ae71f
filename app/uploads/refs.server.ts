import { LRUCache } from 'lru-cache'
import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto'
import { z } from 'zod'
import { getEnv } from '~/utils/env.server'
import { ALLOWED_IMAGE_TYPES } from './image-types'

/**
 * What the server vouches for when it issues a staging key: who it is for, the file's name and the
 * type the upload was signed with. Whether the bytes arrived and are an image is checked at submit.
 */
export const UploadRefSchema = z.object({
  key: z.string().min(1),
  adminId: z.number().int(),
  contentType: z.enum(ALLOWED_IMAGE_TYPES),
  fileName: z.string().max(255),
  /** The size the upload was signed for (S3 holds the browser to it); the real size is checked at submit. */
  size: z.number().int().min(0),
  /** Unix seconds after which the reference is refused. */
  expiresAt: z.number().int(),
})
export type UploadRef = z.infer<typeof UploadRefSchema>

export type RefCheck = { ok: true; ref: UploadRef } | { ok: false; reason: string }

/** Derived once per secret, and kept as a KeyObject: createHmac would otherwise make one on every call. */
const derivedKeys = new Map<string, KeyObject>()

function refKey(secret: string) {
  // A key of its own, so a reference can never be mistaken for a session cookie signature or vice versa.
  let key = derivedKeys.get(secret)
  if (!key) {
    key = createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'product-images', 'upload-ref-v1', 32)))
    derivedKeys.set(secret, key)
  }
  return key
}

function mac(payload: string, secret: string) {
  return createHmac('sha256', refKey(secret)).update(payload).digest('base64url')
}

/** How long an issued reference stays valid: as long as the lifecycle rule keeps its object. */
export function refExpiry(now = Date.now()) {
  return Math.floor(now / 1000) + getEnv().STAGING_EXPIRY_DAYS * 86400
}

/**
 * A reference a form carries in a hidden input: the upload's facts, signed by the server, so the
 * action needs no trust in the browser and a failed submit needs no second upload.
 */
export function signUploadRef(ref: UploadRef, secret = getEnv().SESSION_SECRET): string {
  const payload = Buffer.from(JSON.stringify(UploadRefSchema.parse(ref))).toString('base64url')
  return `${payload}.${mac(payload, secret)}`
}

// Every part of a multipart upload carries the same reference: remember the ones whose signature held.
// Owner and expiry are still checked on every use; a token string always verifies the same way.
const verified = new LRUCache<string, UploadRef>({ max: 5000 })

/** The secrets a reference may be signed with: the current one, then the one before the last rotation. */
function verifyingSecrets() {
  const env = getEnv()
  return env.SESSION_SECRET_PREVIOUS
    ? [env.SESSION_SECRET, env.SESSION_SECRET_PREVIOUS]
    : [env.SESSION_SECRET]
}

/**
 * Checks a reference's signature, expiry and owner. A reference signed before a rotation of SESSION_SECRET
 * still holds while SESSION_SECRET_PREVIOUS names the old secret, so open forms keep their images.
 */
export function verifyUploadRef(
  token: string,
  adminId: number,
  { secrets = verifyingSecrets(), now = Date.now() }: { secrets?: string[]; now?: number } = {},
): RefCheck {
  const cacheKey = `${secrets.join('\n')}\n${token}`
  const known = verified.get(cacheKey)
  let check: RefCheck = known ? { ok: true, ref: known } : { ok: false, reason: 'malformed' }
  for (const secret of known ? [] : secrets) {
    check = verifySignature(token, secret)
    if (check.ok || check.reason !== 'bad signature') break
  }
  if (!check.ok) return check
  if (!known) {
    verified.set(cacheKey, check.ref)
  }
  if (check.ref.adminId !== adminId) return { ok: false, reason: 'issued to another admin' }
  if (check.ref.expiresAt * 1000 < now) return { ok: false, reason: 'expired' }
  return check
}

function verifySignature(token: string, secret: string): RefCheck {
  const [payload, signature, extra] = token.split('.')
  if (!payload || !signature || extra !== undefined) return { ok: false, reason: 'malformed' }
  const expected = Buffer.from(mac(payload, secret))
  const given = Buffer.from(signature)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'bad signature' }
  }
  let parsed: ReturnType<typeof UploadRefSchema.safeParse>
  try {
    parsed = UploadRefSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')))
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  if (!parsed.success) return { ok: false, reason: 'malformed' }
  return { ok: true, ref: parsed.data }
}
