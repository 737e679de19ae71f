import { PutObjectCommand } from '@aws-sdk/client-s3'
import { beforeAll, describe, expect, it } from 'vitest'
import { action as checkUpload } from '~/routes/uploads.check'
import { loader as downloadOriginal } from '~/routes/products.$productId_.images.$imageId.original'
import type { Admin } from '~/models/admin.server'
import { getProduct } from '~/models/product.server'
import { createProduct } from '~/products/save.server'
import { recordUpload } from '~/models/upload.server'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { getUploadLimits } from '~/uploads/submission.server'
import { checkStagedUpload } from '~/uploads/staged-image.server'
import { getS3, newStagingKey } from '~/utils/storage.server'
import { refExpiry, signUploadRef } from '~/uploads/refs.server'
import { createTestAdmin, sessionCookie } from '../support/admins'
import { makePhoto } from '../support/photos'

let admin: Admin
let other: Admin
beforeAll(async () => {
  admin = await createTestAdmin('routes')
  other = await createTestAdmin('routes-other')
})

/** Puts bytes in the admin's staging namespace as the browser would; returns the key and its reference. */
async function stage(bytes: Buffer, fileName: string, as: Admin = admin) {
  const key = newStagingKey(as.id, 'image/jpeg')
  await recordUpload({
    key,
    adminId: as.id,
    fileName,
    contentType: 'image/jpeg',
    declaredSize: bytes.length,
    multipart: false,
  })
  await getS3().send(
    new PutObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: key, Body: bytes, ContentType: 'image/jpeg' }),
  )
  const fields = { key, adminId: as.id, contentType: 'image/jpeg' as const, fileName, size: bytes.length }
  return { key, fields, ref: signUploadRef({ ...fields, expiresAt: refExpiry() }) }
}

async function answer(work: Promise<Response>) {
  return work.catch((thrown: unknown) => {
    if (thrown instanceof Response) return thrown
    throw thrown
  })
}

describe('POST /uploads/check', () => {
  const call = (body: unknown, headers: Record<string, string> = {}) =>
    answer(
      checkUpload({
        request: new Request('http://localhost/uploads/check', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: 'http://localhost', ...headers },
          body: JSON.stringify(body),
        }),
        params: {},
        context: {},
      }),
    )

  it('checks a finished upload and queues the making of its variants at once', async () => {
    const { key, ref } = await stage(await makePhoto(300, 200), 'early.jpg')
    const response = await call({ ref }, { Cookie: await sessionCookie(admin) })
    expect(response.status).toBe(200)
    const [processing] = await getSql()<{ id: string; status: string }[]>`
      select id, status from image_processing where source_key = ${key}`
    expect(processing).toMatchObject({ status: 'pending' })
    expect(
      await getSql()`select 1 from graphile_worker.jobs where key = ${`image:${processing!.id}`}`,
    ).toHaveLength(1)
  })

  it('answers what the save would say about a bad upload, and queues nothing', async () => {
    const { key, ref } = await stage(Buffer.from('not a picture at all'), 'fake.jpg')
    const response = await call({ ref }, { Cookie: await sessionCookie(admin) })
    expect(response.status).toBe(422)
    expect(await response.json()).toEqual({
      error: expect.stringMatching(/^fake\.jpg is not an image we accept/),
    })
    expect(await getSql()`select 1 from image_processing where source_key = ${key}`).toHaveLength(0)
  })

  it('refuses anonymous callers, another admin’s upload and malformed bodies', async () => {
    const { ref } = await stage(await makePhoto(100, 80), 'mine.jpg')
    expect((await call({ ref })).status).toBe(401)
    expect((await call({ ref }, { Cookie: await sessionCookie(other) })).status).toBe(403)
    expect((await call({ nope: 1 }, { Cookie: await sessionCookie(admin) })).status).toBe(400)
  })
})

describe('GET /products/:id/images/:imageId/original', () => {
  it('downloads the original, byte for byte, as an attachment with its file name; signed-in admins only', async () => {
    const photo = await makePhoto(320, 240)
    const { fields } = await stage(photo, 'Summer café.jpg')
    const check = await checkStagedUpload({ ...fields, expiresAt: refExpiry() }, getUploadLimits())
    if (!check.ok) throw new Error(check.error)
    const { productId } = await createProduct({
      adminId: admin.id,
      fields: { name: 'Download', price: 100, description: '' },
      images: [check.image],
      idempotencyKey: crypto.randomUUID(),
    })
    const image = (await getProduct({ productId }))!.images[0]!
    const url = `http://localhost/products/${productId}/images/${image.id}/original`
    const load = (headers: Record<string, string> = {}, imageId = image.id) =>
      answer(
        downloadOriginal({
          request: new Request(url, { headers }),
          params: { productId, imageId },
          context: {},
        }),
      )

    const anonymous = await load()
    expect(anonymous.status).toBe(302)
    expect(anonymous.headers.get('location')).toMatch(/^\/login\?/)
    expect((await load({ Cookie: await sessionCookie(admin) }, crypto.randomUUID())).status).toBe(404)

    const signedIn = await load({ Cookie: await sessionCookie(other) })
    expect(signedIn.status).toBe(302)
    const download = await fetch(signedIn.headers.get('location')!)
    expect(download.status).toBe(200)
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="Summer caf_.jpg"; filename*=UTF-8''Summer%20caf%C3%A9.jpg`,
    )
    expect(Buffer.from(await download.arrayBuffer()).equals(photo)).toBe(true)
  })
})
