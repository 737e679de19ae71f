import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { getEnv } from './env.server'
import { ALLOWED_IMAGE_TYPES } from './upload-limits'

/** An object in the staging namespace whose bytes the server has checked. */
export const StagedImageSchema = z.object({
  key: z.string().min(1),
  adminId: z.number().int(),
  contentType: z.enum(ALLOWED_IMAGE_TYPES),
  byteSize: z.number().int().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fileName: z.string().max(255),
  /** Unix seconds after which the reference is refused. */
  expiresAt: z.number().int(),
})
export type StagedImage = z.infer<typeof StagedImageSchema>

export type RefCheck = { ok: true; image: StagedImage } | { ok: false; reason: string }

function refKey(secret: string) {
  // A key of its own, so a reference can never be mistaken for a session cookie signature or vice versa.
  return Buffer.from(hkdfSync('sha256', secret, 'product-images', 'upload-ref-v1', 32))
}

function mac(payload: string, secret: string) {
  return createHmac('sha256', refKey(secret)).update(payload).digest('base64url')
}

/**
 * A reference a form can carry through a failed submit: the staged image's facts, signed by the server,
 * so the next submit needs neither the bytes again nor trust in the browser.
 */
export function signUploadRef(image: StagedImage, secret = getEnv().SESSION_SECRET): string {
  const payload = Buffer.from(JSON.stringify(StagedImageSchema.parse(image))).toString('base64url')
  return `${payload}.${mac(payload, secret)}`
}

/** Checks a reference's signature, expiry and owner. */
export function verifyUploadRef(
  token: string,
  adminId: number,
  { secret = getEnv().SESSION_SECRET, now = Date.now() } = {},
): RefCheck {
  const [payload, signature, extra] = token.split('.')
  if (!payload || !signature || extra !== undefined) return { ok: false, reason: 'malformed' }
  const expected = Buffer.from(mac(payload, secret))
  const given = Buffer.from(signature)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'bad signature' }
  }
  let parsed: ReturnType<typeof StagedImageSchema.safeParse>
  try {
    parsed = StagedImageSchema.safeParse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')))
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  if (!parsed.success) return { ok: false, reason: 'malformed' }
  if (parsed.data.adminId !== adminId) return { ok: false, reason: 'issued to another admin' }
  if (parsed.data.expiresAt * 1000 < now) return { ok: false, reason: 'expired' }
  return { ok: true, image: parsed.data }
}
