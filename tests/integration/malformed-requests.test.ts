import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { Admin } from '~/models/admin.server'
import { action as editAction } from '~/routes/products.$productId_.edit'
import { action as createAction } from '~/routes/products.new'
import { action as signAction } from '~/routes/uploads.sign'
import { getEnv } from '~/utils/env.server'
import { submitProductEditor } from '~/routes/__product-editor.server'
import { explain } from '../support/editor'
import { signUploadRequest } from '~/uploads/signing.server'
import { createTestAdmin, sessionCookie } from '../support/admins'
import { makePng } from '../support/images'

/**
 * Thousands of malformed requests, from a fixed seed so a failure replays, to the three endpoints that
 * take the most input: the signing route and the create and edit actions. Whatever they hold, the
 * answer is a refusal or a form with a message, never a 5xx (here: a thrown error or a 5xx Response).
 */
const REQUESTS_PER_ENDPOINT = Number(process.env.FUZZ_REQUESTS ?? 3400)
const SEED = Number(process.env.FUZZ_SEED ?? 20261126)

function random(seed: number) {
  // mulberry32
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

let admin: Admin
let cookie: string
let valid: {
  ref: string
  key: string
  otherRef: string
  productId: string
  imageId: string
  multipart: { key: string; ref: string }
}

beforeAll(async () => {
  // The refusals log what they refused; thousands of them would bury the test output.
  vi.spyOn(console, 'error').mockImplementation(() => {})
  vi.spyOn(console, 'warn').mockImplementation(() => {})
  admin = await createTestAdmin('fuzz')
  const other = await createTestAdmin('fuzz-other')
  cookie = await sessionCookie(admin)
  const put = await signUploadRequest(
    { operation: 'putObject', fileName: 'a.png', contentType: 'image/png', size: 70 },
    admin,
  )
  const foreign = await signUploadRequest(
    { operation: 'putObject', fileName: 'b.png', contentType: 'image/png', size: 70 },
    other,
  )
  const multipart = await signUploadRequest(
    {
      operation: 'createMultipartUpload',
      fileName: 'c.png',
      contentType: 'image/png',
      size: 20 * 1024 * 1024,
    },
    admin,
  )
  const form = new FormData()
  form.append('name', `Fuzzed ${randomUUID()}`)
  form.append('price', '1')
  form.append('images', new File([new Uint8Array(makePng(4, 4))], 'x.png', { type: 'image/png' }))
  const created = await submitProductEditor(
    new Request('http://localhost/', { method: 'POST', body: form }),
    admin,
  )
  if (!created.ok) throw new Error(explain(created))
  const { getProduct } = await import('~/models/product.server')
  const product = (await getProduct({ productId: created.productId }))!
  valid = {
    ref: put.ref!,
    key: put.key!,
    otherRef: foreign.ref!,
    productId: product.id,
    imageId: product.images[0]!.id,
    multipart: { key: multipart.key!, ref: multipart.ref! },
  }
})

function generators(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!
  const strings = () => [
    '',
    ' ',
    'a',
    'x'.repeat(300),
    'y'.repeat(6000),
    'nul\u0000inside',
    '\u0000',
    'tab\tand\nnewline\r',
    '\u0007bell',
    '\u007f',
    'lone \ud800 surrogate',
    '🙂 emoji',
    '\u202eRTL',
    "'; drop table products; --",
    '<script>alert(1)</script>',
    '%00',
    '../../etc/passwd',
    '-1',
    '0',
    '19.99',
    '1e309',
    '99999999999999999999',
    'NaN',
    '{}',
    '[]',
    'null',
    randomUUID(),
    randomUUID().toUpperCase(),
    valid.ref,
    valid.otherRef,
    `${valid.ref}x`,
    valid.ref.split('.').reverse().join('.'),
    valid.key,
    valid.productId,
    valid.imageId,
    `${valid.imageId}:up`,
    `${valid.imageId}:sideways`,
    'staging/1/../../products/x.png',
  ]
  const text = (): string => {
    const base = pick(strings())
    return rand() < 0.2 ? base + pick(strings()) : base
  }
  const value = (depth = 0): unknown => {
    switch (int(depth > 2 ? 8 : 11)) {
      case 0:
        return text()
      case 1:
        return int(2) ? -int(1000) : int(1e9)
      case 2:
        return pick([0, 1, 1.5, -0, 1e20, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, 10_001])
      case 3:
        return pick([true, false, null])
      case 4:
        return pick(['image/png', 'image/svg+xml', 'text/html', 'image/jpeg', 'IMAGE/PNG', ''])
      case 5:
        return pick([
          'putObject',
          'createMultipartUpload',
          'uploadPart',
          'listParts',
          'completeMultipartUpload',
          'abortMultipartUpload',
          'batch',
          'deleteObject',
          '',
        ])
      case 6:
        return valid.multipart.key
      case 7:
        return valid.multipart.ref
      case 8:
        return Array.from({ length: int(4) }, () => value(depth + 1))
      case 9:
        return Object.fromEntries(
          Array.from({ length: int(4) }, () => [text().slice(0, 20), value(depth + 1)]),
        )
      default:
        return Array.from({ length: 120 + int(10) }, () => ({ operation: 'uploadPart' }))
    }
  }
  const signRequest = (): unknown => {
    const fields: Record<string, unknown> = {}
    const template = pick([
      { operation: 'putObject', fileName: 'a.png', contentType: 'image/png', size: 10 },
      { operation: 'createMultipartUpload', fileName: 'a.png', contentType: 'image/png', size: 30_000_000 },
      {
        operation: 'uploadPart',
        key: valid.multipart.key,
        ref: valid.multipart.ref,
        uploadId: 'abc',
        partNumber: 1,
      },
      { operation: 'listParts', key: valid.multipart.key, ref: valid.multipart.ref, uploadId: 'abc' },
      {
        operation: 'completeMultipartUpload',
        key: valid.multipart.key,
        ref: valid.multipart.ref,
        uploadId: 'abc',
      },
      { operation: 'abortMultipartUpload', key: valid.key, ref: valid.ref, uploadId: 'abc' },
    ])
    Object.assign(fields, template)
    // Mutate one to three fields: change a value, drop a field, or add one.
    for (let i = 0; i <= int(3); i++) {
      const names = Object.keys(fields)
      const choice = int(3)
      if (choice === 0) fields[pick(names)] = value()
      else if (choice === 1) delete fields[pick(names)]
      else fields[text().slice(0, 30)] = value()
    }
    return fields
  }
  const signBody = (): string => {
    switch (int(6)) {
      case 0:
        return text()
      case 1:
        return JSON.stringify(value())
      case 2:
        return JSON.stringify({ operation: 'batch', requests: Array.from({ length: int(5) }, signRequest) })
      case 3:
        return JSON.stringify({ operation: 'batch', requests: value() })
      default:
        return JSON.stringify(signRequest())
    }
  }
  const formFields = (edit: boolean): [string, string][] => {
    const names = ['name', 'price', 'description', 'imageRef', 'removeImage', 'idempotencyKey']
    if (edit) names.push('imageId', `imageAlt.${valid.imageId}`, 'version', 'move', `imageAlt.${text()}`)
    const fields: [string, string][] = [
      ['name', pick(['Chair', text()])],
      ['price', pick(['12.50', text()])],
    ]
    if (edit) fields.push(['imageId', valid.imageId], ['version', pick(['1', text()])])
    for (let i = int(8); i > 0; i--) fields.push([rand() < 0.9 ? pick(names) : text().slice(0, 40), text()])
    if (rand() < 0.2) fields.push(['imageRef', valid.ref], ['imageRef', valid.ref])
    return fields
  }
  const formRequest = (url: string, edit: boolean): Request => {
    const headers: Record<string, string> = { Cookie: cookie, Origin: getEnv().APP_ORIGIN }
    const fields = formFields(edit)
    const kind = int(10)
    if (kind < 6) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded'
      return new Request(url, { method: 'POST', headers, body: new URLSearchParams(fields) })
    }
    if (kind < 9) {
      const form = new FormData()
      for (const [name, v] of fields) form.append(name, v)
      if (rand() < 0.3) {
        const bytes = rand() < 0.5 ? makePng(1 + int(5), 1 + int(5)) : Buffer.from(text())
        form.append(
          'images',
          new File([new Uint8Array(bytes)], text().slice(0, 50) || 'f.png', {
            type: pick(['image/png', 'text/plain', '']),
          }),
        )
      }
      return new Request(url, { method: 'POST', headers, body: form })
    }
    // A body that does not match its declared type.
    headers['Content-Type'] = pick([
      'multipart/form-data; boundary=zzz',
      'multipart/form-data',
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/json',
    ])
    return new Request(url, { method: 'POST', headers, body: text() })
  }
  return { int, pick, text, signBody, formRequest }
}

/** 'ok' for an answer a user could read, or what a 5xx would have been. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    const result = await call()
    if (result instanceof Response && result.status >= 500)
      return `HTTP ${result.status}: ${await result.text()}`
    return 'ok'
  } catch (thrown) {
    if (thrown instanceof Response) return thrown.status >= 500 ? `HTTP ${thrown.status}` : 'ok'
    return `threw ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}`
  }
}

describe(`${REQUESTS_PER_ENDPOINT * 3} seeded malformed requests`, () => {
  it('the signing route answers every one without a 5xx', async () => {
    const g = generators(random(SEED))
    const failures: string[] = []
    for (let i = 0; i < REQUESTS_PER_ENDPOINT; i++) {
      const body = g.signBody()
      const result = await outcome(() =>
        signAction({
          request: new Request('http://localhost/uploads/sign', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Cookie: cookie, Origin: getEnv().APP_ORIGIN },
            body,
          }),
          params: {},
          context: {},
        }),
      )
      if (result !== 'ok') failures.push(`#${i} ${body.slice(0, 300)} → ${result}`)
    }
    expect(failures).toEqual([])
  })

  it('the create action answers every one without a 5xx', async () => {
    const g = generators(random(SEED + 1))
    const failures: string[] = []
    for (let i = 0; i < REQUESTS_PER_ENDPOINT; i++) {
      const request = g.formRequest('http://localhost/products/new', false)
      const shown = await request.clone().text()
      const result = await outcome(() => createAction({ request, params: {}, context: {} }))
      if (result !== 'ok') failures.push(`#${i} ${shown.slice(0, 300)} → ${result}`)
    }
    expect(failures).toEqual([])
  })

  it('the edit action answers every one without a 5xx', async () => {
    const g = generators(random(SEED + 2))
    const failures: string[] = []
    for (let i = 0; i < REQUESTS_PER_ENDPOINT; i++) {
      const productId = g.int(10) < 8 ? valid.productId : g.text()
      const request = g.formRequest(`http://localhost/products/${valid.productId}/edit`, true)
      const shown = await request.clone().text()
      const result = await outcome(() => editAction({ request, params: { productId }, context: {} }))
      if (result !== 'ok') failures.push(`#${i} ${productId} ${shown.slice(0, 300)} → ${result}`)
    }
    expect(failures).toEqual([])
  })
})
