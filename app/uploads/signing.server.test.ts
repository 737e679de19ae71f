import { beforeAll, describe, expect, it } from 'vitest'
import type { Admin } from '~/models/admin.server'
import { createTestAdmin } from '../../tests/support/admins'
import { getEnv } from '~/utils/env.server'
import { verifyUploadRef } from './refs.server'
import { SignError, signUploadRequest, type SignRequest } from './signing.server'

// Presigning is computed locally; the database behind the issued-upload records is the real test one.
let admin: Admin
let other: Admin
beforeAll(async () => {
  admin = await createTestAdmin('signer')
  other = await createTestAdmin('other')
})

const sign = (request: SignRequest, as: Admin = admin) => signUploadRequest(request, as)

function query(url: string) {
  return new URL(url).searchParams
}

function expectNoChecksum(url: string) {
  // Presigned URLs never sign a payload: the browser's bytes are not known when signing.
  expect(query(url).get('x-amz-content-sha256')).toBe('UNSIGNED-PAYLOAD')
  expect(url.toLowerCase()).not.toContain('x-amz-checksum')
  expect(url.toLowerCase()).not.toContain('x-amz-sdk-checksum')
}

async function newMultipart(size = 20 * 1024 * 1024, as: Admin = admin) {
  const created = await sign(
    { operation: 'createMultipartUpload', fileName: 'big.png', contentType: 'image/png', size },
    as,
  )
  return { key: created.key!, ref: created.ref! }
}

describe('signing a single upload', () => {
  it('chooses a key in the admin staging namespace and signs type, exact length and a short expiry', async () => {
    const signed = await sign({
      operation: 'putObject',
      fileName: '../../etc/passwd.png',
      contentType: 'image/png',
      size: 1234,
    })
    expect(signed.method).toBe('PUT')
    expect(signed.key).toMatch(new RegExp(`^staging/${admin.id}/[0-9a-f-]{36}\\.png$`))
    const url = new URL(signed.url)
    expect(url.pathname).toBe(`/${getEnv().S3_BUCKET}/${signed.key}`)
    expect(query(signed.url).get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host')
    expect(query(signed.url).get('X-Amz-Expires')).toBe(String(getEnv().UPLOAD_URL_TTL_SECONDS))
    expect(signed.headers).toEqual({ 'content-type': 'image/png' })
    expectNoChecksum(signed.url)
    expect(verifyUploadRef(signed.ref!, admin.id)).toMatchObject({
      ok: true,
      ref: { key: signed.key, contentType: 'image/png', fileName: '../../etc/passwd.png' },
    })
  })

  it('refuses a declared size above MAX_IMAGE_BYTES', async () => {
    const request = {
      operation: 'putObject',
      fileName: 'huge.png',
      contentType: 'image/png',
      size: getEnv().MAX_IMAGE_BYTES + 1,
    } as const
    await expect(sign(request)).rejects.toEqual(
      new SignError(413, 'huge.png is larger than 24 MiB, the limit for one image.'),
    )
  })
})

describe('signing a multipart upload', () => {
  it('signs create with the content type, on a key the server chose', async () => {
    const signed = await sign({
      operation: 'createMultipartUpload',
      fileName: 'big.jpg',
      contentType: 'image/jpeg',
      size: 20 * 1024 * 1024,
    })
    expect(signed.method).toBe('POST')
    expect(signed.key).toMatch(new RegExp(`^staging/${admin.id}/[0-9a-f-]{36}\\.jpg$`))
    expect(query(signed.url).has('uploads')).toBe(true)
    expect(query(signed.url).get('X-Amz-SignedHeaders')).toBe('content-type;host')
    expectNoChecksum(signed.url)
  })

  it('signs each part with its exact length and refuses parts past the declared size', async () => {
    const { key, ref } = await newMultipart(20 * 1024 * 1024)
    const part = await sign({ operation: 'uploadPart', key, ref, uploadId: 'u-1', partNumber: 3 })
    expect(part.method).toBe('PUT')
    expect(query(part.url).get('partNumber')).toBe('3')
    expect(query(part.url).get('uploadId')).toBe('u-1')
    expect(query(part.url).get('X-Amz-SignedHeaders')).toBe('content-length;host')
    expectNoChecksum(part.url)
    await expect(sign({ operation: 'uploadPart', key, ref, uploadId: 'u-1', partNumber: 4 })).rejects.toEqual(
      new SignError(400, 'Part 4 is out of range: this upload has 3 parts.'),
    )
  })

  it('signs list and abort for the admin that started the upload', async () => {
    const { key, ref } = await newMultipart()
    const list = await sign({ operation: 'listParts', key, ref, uploadId: 'u-2' })
    expect(list.method).toBe('GET')
    expect(query(list.url).get('uploadId')).toBe('u-2')
    const abort = await sign({ operation: 'abortMultipartUpload', key, ref, uploadId: 'u-2' })
    expect(abort.method).toBe('DELETE')
    for (const url of [list.url, abort.url]) {
      expectNoChecksum(url)
      expect(new URL(url).pathname).toBe(`/${getEnv().S3_BUCKET}/${key}`)
    }
  })

  it('refuses keys outside the admin namespace and uploads another admin started', async () => {
    const mine = await newMultipart()
    const theirs = await newMultipart(6 * 1024 * 1024, other)
    for (const key of [
      'products/abc/1.png',
      `staging/${admin.id}/../${other.id}/x.png`,
      'staging/999999/x.png',
      theirs.key,
    ]) {
      await expect(sign({ operation: 'listParts', key, ref: mine.ref, uploadId: 'u' })).rejects.toEqual(
        new SignError(403, 'That key is outside your upload namespace.'),
      )
    }
    // Their reference does not open my namespace, nor mine theirs.
    await expect(
      sign({ operation: 'listParts', key: mine.key, ref: theirs.ref, uploadId: 'u' }),
    ).rejects.toMatchObject({
      status: 403,
    })
    await expect(
      sign({ operation: 'uploadPart', key: mine.key, ref: mine.ref, uploadId: 'u', partNumber: 1 }, other),
    ).rejects.toMatchObject({ status: 403 })
  })

  it('refuses a key in the namespace that was not issued with the reference given', async () => {
    const { ref } = await newMultipart()
    const key = `staging/${admin.id}/00000000-0000-4000-8000-000000000000.png`
    await expect(sign({ operation: 'abortMultipartUpload', key, ref, uploadId: 'u' })).rejects.toEqual(
      new SignError(403, 'That upload was not started by you.'),
    )
    await expect(
      sign({ operation: 'abortMultipartUpload', key, ref: 'forged.ref', uploadId: 'u' }),
    ).rejects.toEqual(new SignError(403, 'That upload was not started by you.'))
  })
})
