import { beforeAll, describe, expect, it } from 'vitest'
import type { Admin } from '~/models/admin.server'
import { action } from '~/routes/uploads.sign'
import { getEnv } from '~/utils/env.server'
import { headObject } from '~/utils/storage.server'
import {
  defaultSigningDeps,
  signUploadRequest,
  type SignRequest,
  type SigningDeps,
} from '~/uploads/signing.server'
import { createTestAdmin, sessionCookie } from '../support/admins'
import { makePng } from '../support/images'
import { listMultipartUploads } from '../support/s3'

let admin: Admin
beforeAll(async () => {
  admin = await createTestAdmin('uploader')
})

function deps(overrides: Partial<SigningDeps> = {}): SigningDeps {
  return { ...defaultSigningDeps(), ...overrides }
}

const sign = (request: SignRequest, d = deps()) => signUploadRequest(request, admin, d)

/** Sends a request to a signed URL the way a browser does: signed headers set, Content-Length from the body. */
function send(
  signed: { method: string; url: string; headers?: Record<string, string> },
  body?: Uint8Array | string,
) {
  return fetch(signed.url, {
    method: signed.method,
    headers: signed.headers,
    body: body as BodyInit | undefined,
  })
}

function uploadIdOf(xml: string) {
  return /<UploadId>([^<]+)<\/UploadId>/.exec(xml)![1]!
}

describe('what S3 enforces with our signatures', () => {
  it('accepts the declared image on a signed single PUT', async () => {
    const png = makePng(40, 30)
    const signed = await sign({
      operation: 'putObject',
      fileName: 'a.png',
      contentType: 'image/png',
      size: png.length,
    })
    expect((await send(signed, png)).status).toBe(200)
    expect(await headObject(signed.key!)).toMatchObject({ byteSize: png.length, contentType: 'image/png' })
  })

  it('refuses a body larger than the signed length, even when the browser-side limit is bypassed', async () => {
    const signed = await sign({
      operation: 'putObject',
      fileName: 'a.png',
      contentType: 'image/png',
      size: 1000,
    })
    const response = await send(signed, new Uint8Array(getEnv().MAX_IMAGE_BYTES + 1024))
    expect(response.status).toBe(403)
    expect(await headObject(signed.key!)).toBeNull()
  })

  it('refuses another Content-Type than the signed one', async () => {
    const png = makePng(4, 4)
    const signed = await sign({
      operation: 'putObject',
      fileName: 'a.png',
      contentType: 'image/png',
      size: png.length,
    })
    const response = await send({ ...signed, headers: { 'content-type': 'text/html' } }, png)
    expect(response.status).toBe(403)
  })

  it('refuses an expired URL', async () => {
    const png = makePng(4, 4)
    const signed = await sign(
      { operation: 'putObject', fileName: 'a.png', contentType: 'image/png', size: png.length },
      deps({ ttlSeconds: 1 }),
    )
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const response = await send(signed, png)
    expect(response.status).toBe(403)
    expect(await response.text()).toMatch(/AccessDenied|RequestExpired|expired/i)
  })

  it('runs a whole multipart upload through signed URLs, with each part held to its signed length', async () => {
    const size = 20 * 1024 * 1024
    const body = makePng(100, 100, { padTo: size })
    const create = await sign({
      operation: 'createMultipartUpload',
      fileName: 'big.png',
      contentType: 'image/png',
      size,
    })
    const created = await send(create)
    expect(created.status).toBe(200)
    const uploadId = uploadIdOf(await created.text())
    const key = create.key!
    const ref = create.ref!

    const part2 = await sign({ operation: 'uploadPart', key, ref, uploadId, partNumber: 2 })
    expect((await send(part2, body.subarray(0, 5 * 1024 * 1024))).status).toBe(403)

    const etags: string[] = []
    for (const [i, [start, end]] of [
      [0, 8],
      [8, 16],
      [16, 20],
    ].entries()) {
      const part = await sign({ operation: 'uploadPart', key, ref, uploadId, partNumber: i + 1 })
      const response = await send(part, body.subarray(start! * 1024 * 1024, end! * 1024 * 1024))
      expect(response.status).toBe(200)
      expect(response.headers.get('etag')).toBeTruthy()
      etags.push(response.headers.get('etag')!)
    }
    const listed = await send(await sign({ operation: 'listParts', key, ref, uploadId }))
    expect((await listed.text()).match(/<PartNumber>/g)).toHaveLength(3)

    const complete = await sign({ operation: 'completeMultipartUpload', key, ref, uploadId })
    const xml = `<CompleteMultipartUpload>${etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`
    expect((await send(complete, xml)).status).toBe(200)
    expect(await headObject(key)).toMatchObject({ byteSize: size, contentType: 'image/png' })
  })

  it('lists the parts before signing Complete and aborts an upload whose parts exceed the limit', async () => {
    const size = 20 * 1024 * 1024
    const create = await sign({
      operation: 'createMultipartUpload',
      fileName: 'big.png',
      contentType: 'image/png',
      size,
    })
    const uploadId = uploadIdOf(await (await send(create)).text())
    const key = create.key!
    const ref = create.ref!
    for (const [i, length] of [8, 8, 4].entries()) {
      const part = await sign({ operation: 'uploadPart', key, ref, uploadId, partNumber: i + 1 })
      expect((await send(part, new Uint8Array(length * 1024 * 1024))).status).toBe(200)
    }
    // The limit was lowered while the upload ran: the parts S3 holds now exceed it.
    await expect(
      sign(
        { operation: 'completeMultipartUpload', key, ref, uploadId },
        deps({ maxImageBytes: 16 * 1024 * 1024 }),
      ),
    ).rejects.toMatchObject({ status: 413, message: expect.stringMatching(/big\.png is larger than 16 MiB/) })
    expect((await listMultipartUploads(key)).map((u) => u.UploadId)).not.toContain(uploadId)
  })

  it('aborts through the signed DELETE, leaving no multipart upload behind', async () => {
    const create = await sign({
      operation: 'createMultipartUpload',
      fileName: 'c.png',
      contentType: 'image/png',
      size: 6 * 1024 * 1024,
    })
    const uploadId = uploadIdOf(await (await send(create)).text())
    expect((await listMultipartUploads(create.key!)).map((u) => u.UploadId)).toEqual([uploadId])
    const abort = await sign({
      operation: 'abortMultipartUpload',
      key: create.key!,
      ref: create.ref!,
      uploadId,
    })
    expect((await send(abort)).status).toBe(204)
    expect(await listMultipartUploads(create.key!)).toEqual([])
  })
})

describe('POST /uploads/sign', () => {
  const call = (body: unknown, headers: Record<string, string> = {}) =>
    action({
      request: new Request('http://localhost/uploads/sign', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
      params: {},
      context: {},
    }).catch((thrown: unknown) => {
      if (thrown instanceof Response) return thrown
      throw thrown
    })

  const putRequest = { operation: 'putObject', fileName: 'a.png', contentType: 'image/png', size: 10 }

  it('refuses anonymous callers with 401', async () => {
    const response = await call(putRequest)
    expect(response.status).toBe(401)
    expect(await response.json()).toEqual({ error: 'Sign in as an admin first.' })
  })

  it('refuses another origin with 403, even with a valid session', async () => {
    const cookie = await sessionCookie(admin)
    const response = await call(putRequest, { Cookie: cookie, Origin: 'https://evil.example' })
    expect(response.status).toBe(403)
  })

  it('signs for a signed-in admin from the app origin', async () => {
    const cookie = await sessionCookie(admin)
    const response = await call(putRequest, { Cookie: cookie, Origin: getEnv().APP_ORIGIN })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      method: 'PUT',
      key: expect.stringMatching(`^staging/${admin.id}/`),
    })
  })

  it.each([
    ['a request the uploader never makes', { operation: 'deleteObject', key: 'products/x/1.png' }],
    ['a type that is not an allowed image', { ...putRequest, contentType: 'text/html' }],
    ['a missing size', { operation: 'putObject', fileName: 'a.png', contentType: 'image/png' }],
    ['not JSON at all', 'hello'],
  ])('refuses %s with 400 and says why', async (_, body) => {
    const cookie = await sessionCookie(admin)
    const response = await call(body, { Cookie: cookie })
    expect(response.status).toBe(400)
    expect((await response.json()).error).toMatch(/^Not a request the uploader can have signed/)
  })
})

describe('POST /uploads/sign with a batch', () => {
  const call = async (body: unknown) => {
    const cookie = await sessionCookie(admin)
    const response = await action({
      request: new Request('http://localhost/uploads/sign', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Cookie: cookie },
        body: JSON.stringify(body),
      }),
      params: {},
      context: {},
    })
    return { status: response.status, json: (await response.json()) as Record<string, unknown> }
  }

  it('signs each new file, and says why one of them was refused without spoiling the rest', async () => {
    const png = makePng(12, 12)
    const { status, json } = await call({
      operation: 'batch',
      requests: [
        { operation: 'putObject', fileName: 'a.png', contentType: 'image/png', size: png.length },
        { operation: 'putObject', fileName: 'huge.png', contentType: 'image/png', size: 10 ** 12 },
        { operation: 'createMultipartUpload', fileName: 'b.png', contentType: 'image/png', size: 20 << 20 },
      ],
    })
    expect(status).toBe(200)
    const [first, refused, multipart] = json.results as Record<string, string>[]
    expect(first).toMatchObject({ method: 'PUT', key: expect.stringMatching(`^staging/${admin.id}/`) })
    expect(refused).toEqual({ error: expect.stringMatching(/^huge\.png is larger than/), status: 413 })
    expect(multipart).toMatchObject({ method: 'POST', ref: expect.any(String) })
    expect(first!.key).not.toBe(multipart!.key)
    // The URLs are as good as ones signed alone: S3 takes the file.
    expect((await send(first as never, png)).status).toBe(200)
  })

  it('signs every part of a multipart upload at once, each held to its own length', async () => {
    const size = 12 << 20
    const created = await sign({
      operation: 'createMultipartUpload',
      fileName: 'c.png',
      contentType: 'image/png',
      size,
    })
    const uploadId = uploadIdOf(await (await send(created)).text())
    const part = (partNumber: number) => ({
      operation: 'uploadPart',
      key: created.key,
      uploadId,
      ref: created.ref,
      partNumber,
    })
    const { status, json } = await call({ operation: 'batch', requests: [part(1), part(2), part(3)] })
    expect(status).toBe(200)
    const [one, two, beyond] = json.results as { method: string; url: string; error?: string }[]
    expect(beyond).toEqual({ error: 'Part 3 is out of range: this upload has 2 parts.', status: 400 })
    const partSize = 8 << 20
    expect((await send(two!, new Uint8Array(partSize))).status).toBe(403)
    expect((await send(one!, new Uint8Array(partSize))).status).toBe(200)
    expect((await send(two!, new Uint8Array(size - partSize))).status).toBe(200)
    await send(
      await sign({ operation: 'abortMultipartUpload', key: created.key!, uploadId, ref: created.ref! }),
    )
  })

  it('refuses parts of an upload someone else started', async () => {
    const other = await createTestAdmin('uploader-other')
    const theirs = await signUploadRequest(
      { operation: 'createMultipartUpload', fileName: 'd.png', contentType: 'image/png', size: 6 << 20 },
      other,
    )
    const { json } = await call({
      operation: 'batch',
      requests: [{ operation: 'uploadPart', key: theirs.key, uploadId: 'x', ref: theirs.ref, partNumber: 1 }],
    })
    expect(json.results).toEqual([{ error: 'That key is outside your upload namespace.', status: 403 }])
  })

  it.each([
    ['an empty batch', { operation: 'batch', requests: [] }],
    ['more than 100 requests', { operation: 'batch', requests: Array(101).fill(putRequestOf('e.png')) }],
    [
      'a request that must not be signed ahead (Complete lists the parts first)',
      {
        operation: 'batch',
        requests: [{ operation: 'completeMultipartUpload', key: 'k', uploadId: 'u', ref: 'r' }],
      },
    ],
  ])('refuses %s with 400', async (_, body) => {
    const { status, json } = await call(body)
    expect(status).toBe(400)
    expect(json.error).toMatch(/^Not a request the uploader can have signed/)
  })
})

function putRequestOf(fileName: string) {
  return { operation: 'putObject', fileName, contentType: 'image/png', size: 10 }
}
