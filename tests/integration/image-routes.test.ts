import { PutObjectCommand } from '@aws-sdk/client-s3'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { action as checkUpload } from '~/routes/uploads.check'
import { loader as previewUpload } from '~/routes/uploads.preview'
import { Logger, runOnce } from 'graphile-worker'
import { TASK } from '~/jobs/queue.server'
import { taskList } from '~/jobs/worker.server'
import { loader as downloadOriginal } from '~/routes/products.$productId_.images.$imageId.original'
import type { Admin } from '~/models/admin.server'
import { getProduct } from '~/models/product.server'
import { createProduct } from '~/products/save.server'
import { recordUpload } from '~/models/upload.server'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { MAX_CHECK_BATCH } from '~/uploads/limits'
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

describe('GET /uploads/preview', () => {
  const preview = (ref: string, as: Admin | null = admin) =>
    (async () =>
      answer(
        previewUpload({
          request: new Request(`http://localhost/uploads/preview?ref=${encodeURIComponent(ref)}`, {
            headers: as ? { Cookie: await sessionCookie(as) } : {},
          }),
          params: {},
          context: {},
        }),
      ))()

  it('gives the server’s smallest variant of at least 240 px once made, pending before, and nothing to others', async () => {
    const { ref, fields } = await stage(await makePhoto(1200, 900), 'phone.jpg')
    const pending = await preview(ref)
    expect(pending.status).toBe(200)
    expect(pending.headers.get('Retry-After')).toBe('1')
    expect(await pending.json()).toEqual({ status: 'pending' })

    const checked = await checkStagedUpload({ ...fields, expiresAt: refExpiry() }, getUploadLimits())
    expect(checked.ok).toBe(true)
    const cookie = await sessionCookie(admin)
    await checkUpload({
      request: new Request('http://localhost/uploads/check', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: getEnv().APP_ORIGIN, Cookie: cookie },
        body: JSON.stringify({ refs: [ref] }),
      }),
      params: {},
      context: {},
    })
    await runOnce({
      connectionString: getEnv().DATABASE_URL,
      taskList: { [TASK.processImage]: taskList[TASK.processImage]! },
      logger: new Logger(() => () => {}),
    })
    const ready = (await (await preview(ref)).json()) as { status: string; url: string }
    expect(ready.status).toBe('ready')
    expect(new URL(ready.url).pathname).toMatch(/\/variants\/.+\/256\.webp$/)
    const image = await fetch(ready.url)
    expect(image.headers.get('content-type')).toBe('image/webp')

    expect((await preview(ref, other)).status).toBe(403)
    expect((await preview(ref, null)).status).toBe(401)
  })
})

describe('POST /uploads/check', () => {
  const call = (body: unknown, headers: Record<string, string> = {}) =>
    answer(
      checkUpload({
        request: new Request('http://localhost/uploads/check', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: getEnv().APP_ORIGIN, ...headers },
          body: JSON.stringify(body),
        }),
        params: {},
        context: {},
      }),
    )

  const processingOf = async (key: string) => {
    const [processing] = await getSql()<{ id: string; status: string }[]>`
      select id, status from image_processing where source_key = ${key}`
    if (!processing) return null
    const jobs = await getSql()`select 1 from graphile_worker.jobs where key = ${`image:${processing.id}`}`
    return { status: processing.status, jobs: jobs.length }
  }

  it('checks a batch of finished uploads, queues the good ones’ variants and says what is wrong with the rest', async () => {
    const good = await stage(await makePhoto(300, 200), 'early.jpg')
    const fake = await stage(Buffer.from('not a picture at all'), 'fake.jpg')
    const second = await stage(await makePhoto(200, 300), 'second.jpg')
    const theirs = await stage(await makePhoto(100, 80), 'theirs.jpg', other)
    const response = await call(
      { refs: [good.ref, fake.ref, second.ref, theirs.ref] },
      { Cookie: await sessionCookie(admin) },
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      results: [
        { ok: true },
        { error: expect.stringMatching(/^fake\.jpg is not an image we accept/) },
        { ok: true },
        { error: 'That upload was not started by you.' },
      ],
    })
    expect(await processingOf(good.key)).toEqual({ status: 'pending', jobs: 1 })
    expect(await processingOf(second.key)).toEqual({ status: 'pending', jobs: 1 })
    expect(await processingOf(fake.key)).toBeNull()
    expect(await processingOf(theirs.key)).toBeNull()

    // Checking again (a retry, a second tab) queues nothing twice.
    expect((await call({ refs: [good.ref] }, { Cookie: await sessionCookie(admin) })).status).toBe(200)
    expect(await processingOf(good.key)).toEqual({ status: 'pending', jobs: 1 })
  })

  it('refuses anonymous callers and malformed bodies, empty and oversized batches among them', async () => {
    const { ref } = await stage(await makePhoto(100, 80), 'mine.jpg')
    const cookie = { Cookie: await sessionCookie(admin) }
    expect((await call({ refs: [ref] })).status).toBe(401)
    for (const body of [{ nope: 1 }, { ref }, { refs: [] }, { refs: Array(MAX_CHECK_BATCH + 1).fill(ref) }]) {
      const refused = await call(body, cookie)
      expect(refused.status).toBe(400)
      expect(await refused.json()).toEqual({ error: expect.stringContaining('"refs"') })
    }
  })

  it('answers 503 and queues nothing while storage is not answering', async () => {
    const { key, ref } = await stage(await makePhoto(120, 90), 'outage.jpg')
    const send = vi
      .spyOn(getS3(), 'send')
      .mockRejectedValue(
        Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError', $metadata: {} }),
      )
    try {
      const response = await call({ refs: [ref] }, { Cookie: await sessionCookie(admin) })
      expect(response.status).toBe(503)
      expect(await response.json()).toEqual({ error: expect.stringMatching(/storage is not answering/) })
    } finally {
      send.mockRestore()
    }
    expect(await processingOf(key)).toBeNull()
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
