import { describe, expect, it } from 'vitest'
import { parseEnv } from './env.server'

const valid = {
  SESSION_SECRET: 'x'.repeat(32),
  ADMIN_EMAIL: 'admin@example.com',
  ADMIN_PASSWORD: 'long-enough',
}

describe('parseEnv', () => {
  it('fills in defaults', () => {
    const env = parseEnv(valid)
    expect(env).toMatchObject({ PORT: 3000, S3_BUCKET: 'product-images', UPLOAD_URL_TTL_SECONDS: 300 })
    expect(env.DATABASE_URL).toBeUndefined()
    expect(env.S3_FORCE_PATH_STYLE).toBe(false)
  })

  it('names every bad setting', () => {
    expect(() =>
      parseEnv({ ...valid, ADMIN_EMAIL: 'nope', PORT: 'eighty', SESSION_SECRET: 'short' }),
    ).toThrow(/ADMIN_EMAIL[\s\S]*PORT|PORT[\s\S]*ADMIN_EMAIL/)
    expect(() => parseEnv({ ...valid, SESSION_SECRET: 'short' })).toThrow(
      /SESSION_SECRET: must be at least 32/,
    )
  })

  it('says a number is expected in plain words', () => {
    expect(() => parseEnv({ ...valid, MAX_IMAGE_BYTES: 'lots' })).toThrow(
      'MAX_IMAGE_BYTES: must be a number, not "lots"',
    )
  })

  it('says which required setting is missing', () => {
    expect(() => parseEnv({ SESSION_SECRET: 'x'.repeat(32), ADMIN_EMAIL: 'a@b.co' })).toThrow(
      /ADMIN_PASSWORD: is required/,
    )
  })

  it('reads booleans and URLs', () => {
    const env = parseEnv({ ...valid, S3_FORCE_PATH_STYLE: 'true', S3_ENDPOINT: 'http://127.0.0.1:7480' })
    expect(env.S3_FORCE_PATH_STYLE).toBe(true)
    expect(() => parseEnv({ ...valid, S3_ENDPOINT: 'not a url' })).toThrow(/S3_ENDPOINT/)
  })
})
