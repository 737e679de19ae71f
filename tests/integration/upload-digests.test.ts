import { PutObjectCommand } from '@aws-sdk/client-s3'
import { createHash, randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Admin } from '~/models/admin.server'
import { submitProductEditor } from '~/routes/__product-editor.server'
import { partLayout } from '~/uploads/limits'
import { verifyUploadRef } from '~/uploads/refs.server'
import { signUploadBatch, signUploadRequest, type SignRequest } from '~/uploads/signing.server'
import { checkStagedUpload } from '~/uploads/staged-image.server'
import { streamToS3, STREAM_PART_BYTES } from '~/uploads/stream-to-s3.server'
import { getUploadLimits } from '~/uploads/submission.server'
import { getEnv } from '~/utils/env.server'
import { createS3ClientFromEnv, getS3, headObject } from '~/utils/storage.server'
import { createTestAdmin } from '../support/admins'
import { failed } from '../support/editor'
import { makePng } from '../support/images'

let admin: Admin
beforeAll(async () => {
  admin = await createTestAdmin('digests')
})

const MiB = 1024 * 1024
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex')
const sign = (request: SignRequest) => signUploadRequest(request, admin)
const send = (signed: { method: string; url: string; headers?: Record<string, string> }, body?: Uint8Array) =>
  fetch(signed.url, { method: signed.method, headers: signed.headers, body: body as BodyInit | undefined })
/** The same bytes with one changed: what a flaky link or bad memory delivers. */
function damaged(bytes: Uint8Array) {
  const copy = Uint8Array.from(bytes)
  copy[copy.length >> 1]! ^= 0xff
  return copy
}
const signedHeaders = (url: string) => new URL(url).searchParams.get('X-Amz-SignedHeaders')?.split(';')

async function startMultipart(bytes: Uint8Array, fileName = 'big.png') {
  const create = await sign({
    operation: 'createMultipartUpload',
    fileName,
    contentType: 'image/png',
    size: bytes.length,
  })
  const created = await send(create)
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await created.text())![1]!
  return { key: create.key!, ref: create.ref!, uploadId }
}

/** Uploads `bytes` through signed URLs as the browser does, every part with its digest (signed in one batch). */
async function uploadMultipart(bytes: Uint8Array, fileName = 'big.png') {
  const upload = await startMultipart(bytes, fileName)
  const { partSize, count } = partLayout(bytes.length)
  const parts = Array.from({ length: count }, (_, i) => bytes.subarray(i * partSize, (i + 1) * partSize))
  const { results } = await signUploadBatch(
    parts.map((part, i) => ({ operation: 'uploadPart', ...upload, partNumber: i + 1, md5: md5(part) })),
    admin,
  )
  const etags: string[] = []
  for (const [i, signed] of results.entries()) {
    if ('error' in signed) throw new Error(signed.error)
    const response = await send(signed, parts[i])
    expect(response.status).toBe(200)
    etags.push(response.headers.get('etag')!)
  }
  const complete = await sign({ operation: 'completeMultipartUpload', ...upload })
  const xml = etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag}</ETag></Part>`)
  const completed = await fetch(complete.url, {
    method: 'POST',
    body: `<CompleteMultipartUpload>${xml.join('')}</CompleteMultipartUpload>`,
  })
  expect(completed.status).toBe(200)
  return { ...upload, parts }
}

const check = (ref: string) => {
  const verified = verifyUploadRef(ref, admin.id)
  if (!verified.ok) throw new Error('the reference did not verify')
  return checkStagedUpload(verified.ref, getUploadLimits())
}

/** Replaces a staged object with other bytes (still a PNG, so only its digest can tell). */
const overwrite = (key: string, bytes: Uint8Array) =>
  getS3().send(
    new PutObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: key, Body: bytes, ContentType: 'image/png' }),
  )

describe('the server signs each request’s digest, and S3 holds the bytes to it', () => {
  it('signs Content-MD5 into a single PUT: Ceph refuses other bytes of the same length with BadDigest', async () => {
    const png = makePng(40, 30, { padTo: 64 * 1024 })
    const signed = await sign({
      operation: 'putObject',
      fileName: 'a.png',
      contentType: 'image/png',
      size: png.length,
      md5: md5(png),
    })
    expect(signedHeaders(signed.url)).toEqual(['content-length', 'content-md5', 'content-type', 'host'])
    expect(signed.headers).toEqual({
      'content-type': 'image/png',
      'content-md5': createHash('md5').update(png).digest('base64'),
    })
    const refused = await send(signed, damaged(png))
    expect(refused.status).toBe(400)
    expect(await refused.text()).toContain('BadDigest')
    expect(await headObject(signed.key!)).toBeNull()
    const stored = await send(signed, png)
    expect(stored.status).toBe(200)
    expect(stored.headers.get('etag')).toBe(`"${md5(png)}"`)
  })

  it('signs Content-MD5 into a part: Ceph refuses a part with other bytes, and takes the right ones', async () => {
    const bytes = makePng(100, 100, { padTo: 20 * MiB })
    const upload = await startMultipart(bytes)
    const { partSize } = partLayout(bytes.length)
    const part3 = bytes.subarray(2 * partSize)
    const signed = await sign({ operation: 'uploadPart', ...upload, partNumber: 3, md5: md5(part3) })
    expect(signedHeaders(signed.url)).toContain('content-md5')
    const refused = await send(signed, damaged(part3))
    expect(refused.status).toBe(400)
    expect(await refused.text()).toContain('BadDigest')
    expect((await send(signed, part3)).status).toBe(200)
  })
})

describe('before anything is attached, the object’s ETag is the one its digests imply', () => {
  it('takes a multipart upload whose ETag is the MD5 of its parts’ digests, and keeps that ETag for the copy', async () => {
    const bytes = makePng(100, 100, { padTo: 20 * MiB + 7 })
    const { ref, parts } = await uploadMultipart(bytes)
    const implied = createHash('md5')
      .update(Buffer.concat(parts.map((part) => createHash('md5').update(part).digest())))
      .digest('hex')
    const checked = await check(ref)
    expect(checked).toMatchObject({ ok: true, image: { etag: `"${implied}-${parts.length}"` } })
  })

  it('refuses a finished single upload whose object was replaced, at the early check and at save, naming the file', async () => {
    const png = makePng(40, 30)
    const signed = await sign({
      operation: 'putObject',
      fileName: 'lamp.png',
      contentType: 'image/png',
      size: png.length,
      md5: md5(png),
    })
    expect((await send(signed, png)).status).toBe(200)
    expect(await check(signed.ref!)).toMatchObject({ ok: true })

    await overwrite(signed.key!, makePng(40, 30, { rgb: [200, 10, 10] }))
    const message = 'lamp.png changed or was damaged on its way to storage; add it again.'
    expect(await check(signed.ref!)).toEqual({ ok: false, error: message })
    const form = new FormData()
    form.append('name', `Lamp ${randomUUID()}`)
    form.append('price', '10')
    form.append('imageRef', signed.ref!)
    const saved = failed(
      await submitProductEditor(
        new Request('http://localhost/products/new', { method: 'POST', body: form }),
        admin,
      ),
    )
    expect(saved.errors.images).toEqual([message])
  })

  it('refuses a multipart upload whose object was replaced by a single PUT', async () => {
    const { key, ref } = await uploadMultipart(makePng(100, 100, { padTo: 17 * MiB }), 'poster.png')
    await overwrite(key, makePng(100, 100, { padTo: 17 * MiB, rgb: [1, 2, 3] }))
    expect(await check(ref)).toEqual({
      ok: false,
      error: 'poster.png changed or was damaged on its way to storage; add it again.',
    })
  })
})

describe('without JavaScript the server hashes what it streams', () => {
  async function* chunksOf(bytes: Uint8Array) {
    for (let at = 0; at < bytes.length; at += 256 * 1024) yield bytes.subarray(at, at + 256 * 1024)
  }
  const inspect = () => ({ key: `staging/${admin.id}/${randomUUID()}.png`, contentType: 'image/png' })

  it('returns the digests of the whole body and of each part, and the ETag they imply', async () => {
    const bytes = makePng(100, 100, { padTo: 3 * STREAM_PART_BYTES + 1234 })
    const stored = await streamToS3({ source: chunksOf(bytes), maxBytes: 64 * MiB, inspect })
    const parts = [0, 1, 2, 3].map((i) => bytes.subarray(i * STREAM_PART_BYTES, (i + 1) * STREAM_PART_BYTES))
    expect(stored.contentMd5).toBe(md5(bytes))
    expect(stored.partMd5s).toEqual(parts.map(md5))
    const implied = createHash('md5')
      .update(Buffer.concat(parts.map((part) => createHash('md5').update(part).digest())))
      .digest('hex')
    expect(stored.etag).toBe(`"${implied}-4"`)
  })

  it('sends each part with its Content-MD5: a part damaged after it was hashed is refused, and nothing is left', async () => {
    // An S3 client whose requests lose a byte of the third part on the way, as a bad link would.
    const s3 = createS3ClientFromEnv(getEnv())
    s3.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { query?: Record<string, string>; body?: unknown }
        if (request.query?.partNumber === '3' && request.body instanceof Uint8Array) {
          request.body = damaged(request.body)
        }
        return next(args)
      },
      { step: 'finalizeRequest', name: 'damagePartThree' },
    )
    const bytes = makePng(100, 100, { padTo: 3 * STREAM_PART_BYTES + 1234 })
    const target = inspect()
    await expect(
      streamToS3({ source: chunksOf(bytes), maxBytes: 64 * MiB, inspect: () => target, s3 }),
    ).rejects.toMatchObject({ name: 'BadDigest' })
    expect(await headObject(target.key)).toBeNull()
    s3.destroy()
  })

  it('sends a small file as one PutObject with its Content-MD5', async () => {
    const png = makePng(40, 30)
    const stored = await streamToS3({ source: chunksOf(png), maxBytes: MiB, inspect })
    expect(stored).toMatchObject({ contentMd5: md5(png), partMd5s: null, etag: `"${md5(png)}"` })
  })
})
