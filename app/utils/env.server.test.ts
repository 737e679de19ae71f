import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { estimateSecretBits, EXAMPLE_SECRETS, parseEnv } from './env.server'

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

  it('reads ALLOWED_HOSTS as a list of host names, and names it when one is not', () => {
    expect(parseEnv(valid).ALLOWED_HOSTS).toEqual([])
    expect(parseEnv({ ...valid, ALLOWED_HOSTS: ' 127.0.0.1:3000, Backend.internal ' }).ALLOWED_HOSTS).toEqual(
      ['127.0.0.1:3000', 'backend.internal'],
    )
    expect(() => parseEnv({ ...valid, ALLOWED_HOSTS: 'https://shop.example' })).toThrow(/ALLOWED_HOSTS/)
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

describe('parseEnv in production', () => {
  const production = {
    NODE_ENV: 'production',
    SESSION_SECRET: 'Zq3v9XkP0rT2mW8yB5nL7cF1hJ4sD6gA-uE0iO_pQ',
    ADMIN_EMAIL: 'admin@shop.example',
    ADMIN_PASSWORD: 'a password of my own',
    APP_ORIGIN: 'https://admin.shop.example',
  }

  it('starts with secrets of its own and an https APP_ORIGIN', () => {
    expect(parseEnv(production)).toMatchObject({ APP_ORIGIN: 'https://admin.shop.example', HOST: '0.0.0.0' })
  })

  it('refuses the example secrets from .env.example, naming each setting and the fix', () => {
    expect(() => parseEnv({ ...production, ...EXAMPLE_SECRETS })).toThrow(
      /SESSION_SECRET: is the example[^\n]*openssl rand -base64 32[\s\S]*ADMIN_PASSWORD: is the example/,
    )
  })

  it('refuses a SESSION_SECRET that is long enough but guessable', () => {
    for (const weak of ['a'.repeat(64), 'password'.repeat(5), 'ab1'.repeat(20)]) {
      expect(() => parseEnv({ ...production, SESSION_SECRET: weak })).toThrow(
        /SESSION_SECRET: is too easy to guess \(about \d+ bits, 128 needed\)/,
      )
    }
    const generated = randomBytes(32).toString('base64url')
    expect(parseEnv({ ...production, SESSION_SECRET: generated }).SESSION_SECRET).toBe(generated)
  })

  it('requires APP_ORIGIN, and https unless it is this machine', () => {
    expect(() => parseEnv({ ...production, APP_ORIGIN: undefined })).toThrow(
      /APP_ORIGIN: is required in production/,
    )
    expect(() => parseEnv({ ...production, APP_ORIGIN: 'http://admin.shop.example' })).toThrow(
      /APP_ORIGIN: must be https in production/,
    )
    expect(parseEnv({ ...production, APP_ORIGIN: 'http://localhost:3000' }).APP_ORIGIN).toBe(
      'http://localhost:3000',
    )
  })

  it('development needs none of that, and listens on this machine only', () => {
    expect(parseEnv({ ...valid, ...EXAMPLE_SECRETS })).toMatchObject({
      APP_ORIGIN: 'http://localhost:3000',
      HOST: '127.0.0.1',
    })
    expect(parseEnv({ ...valid, HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0')
  })
})

describe('APP_ORIGIN', () => {
  it('is normalised the way browsers send Origin', () => {
    expect(parseEnv({ ...valid, APP_ORIGIN: 'HTTPS://Admin.Shop.Example/' }).APP_ORIGIN).toBe(
      'https://admin.shop.example',
    )
    expect(parseEnv({ ...valid, APP_ORIGIN: 'https://admin.shop.example:443' }).APP_ORIGIN).toBe(
      'https://admin.shop.example',
    )
  })

  it('refuses a path or another scheme', () => {
    expect(() => parseEnv({ ...valid, APP_ORIGIN: 'https://shop.example/admin' })).toThrow(
      /APP_ORIGIN: must be an origin only/,
    )
    expect(() => parseEnv({ ...valid, APP_ORIGIN: 'ftp://shop.example' })).toThrow(
      /APP_ORIGIN: must be an http/,
    )
  })
})

describe('EXAMPLE_SECRETS', () => {
  it('are the values .env.example ships, so production recognises them', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
    expect(example).toContain(`SESSION_SECRET=${EXAMPLE_SECRETS.SESSION_SECRET}\n`)
    expect(example).toContain(`ADMIN_PASSWORD=${EXAMPLE_SECRETS.ADMIN_PASSWORD}\n`)
  })
})

describe('estimateSecretBits', () => {
  it('scores random secrets high and repetitive ones low', () => {
    expect(estimateSecretBits(randomBytes(32).toString('base64'))).toBeGreaterThan(180)
    expect(estimateSecretBits('x'.repeat(100))).toBe(0)
    expect(estimateSecretBits('ab'.repeat(50))).toBe(100)
  })
})
