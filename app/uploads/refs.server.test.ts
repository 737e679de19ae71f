import { describe, expect, it } from 'vitest'
import { signUploadRef, verifyUploadRef, type UploadRef } from './refs.server'

const secret = 'unit-test-secret-0123456789abcdefghijkl'
const image: UploadRef = {
  key: 'staging/7/0b6c5d9e-2f0a-4c1e-9d3b-1a2b3c4d5e6f.png',
  adminId: 7,
  contentType: 'image/png',
  fileName: 'mug.png',
  size: 1234,
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
}

describe('upload references', () => {
  it('round-trips for the admin it was issued to', () => {
    const ref = signUploadRef(image, secret)
    expect(verifyUploadRef(ref, 7, { secrets: [secret] })).toEqual({ ok: true, ref: image })
  })

  it('still checks owner and expiry when the same reference comes again', () => {
    const ref = signUploadRef({ ...image, fileName: 'again.png' }, secret)
    expect(verifyUploadRef(ref, 7, { secrets: [secret] }).ok).toBe(true)
    expect(verifyUploadRef(ref, 8, { secrets: [secret] })).toMatchObject({
      ok: false,
      reason: 'issued to another admin',
    })
    expect(verifyUploadRef(ref, 7, { secrets: [secret], now: (image.expiresAt + 1) * 1000 })).toMatchObject({
      ok: false,
      reason: 'expired',
    })
    expect(verifyUploadRef(ref, 7, { secrets: ['another-secret-0123456789abcdefghijklmn'] })).toMatchObject({
      ok: false,
    })
  })

  it('refuses another admin', () => {
    expect(verifyUploadRef(signUploadRef(image, secret), 8, { secrets: [secret] })).toEqual({
      ok: false,
      reason: 'issued to another admin',
    })
  })

  it('refuses an expired reference', () => {
    const ref = signUploadRef(image, secret)
    expect(verifyUploadRef(ref, 7, { secrets: [secret], now: (image.expiresAt + 1) * 1000 })).toMatchObject({
      ok: false,
      reason: 'expired',
    })
  })

  it('refuses a reference whose facts were edited', () => {
    const [payload, signature] = signUploadRef(image, secret).split('.')
    const edited = JSON.parse(Buffer.from(payload!, 'base64url').toString())
    edited.key = 'products/someone-else/photo.png'
    const forged = `${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${signature}`
    expect(verifyUploadRef(forged, 7, { secrets: [secret] })).toMatchObject({
      ok: false,
      reason: 'bad signature',
    })
  })

  it('refuses a reference signed with another secret', () => {
    const ref = signUploadRef(image, 'another-secret-0123456789abcdefghijklmn')
    expect(verifyUploadRef(ref, 7, { secrets: [secret] })).toMatchObject({
      ok: false,
      reason: 'bad signature',
    })
  })

  it('still accepts a reference signed before a rotation, while the old secret is the previous one', () => {
    const old = 'secret-before-the-rotation-0123456789abcdefgh'
    const ref = signUploadRef(image, old)
    expect(verifyUploadRef(ref, 7, { secrets: [secret, old] })).toEqual({ ok: true, ref: image })
    expect(verifyUploadRef(ref, 7, { secrets: [secret] })).toMatchObject({
      ok: false,
      reason: 'bad signature',
    })
  })

  it.each(['', 'abc', 'a.b.c', '.', 'x.'])('refuses the malformed reference %j', (token) => {
    expect(verifyUploadRef(token, 7, { secrets: [secret] }).ok).toBe(false)
  })
})
