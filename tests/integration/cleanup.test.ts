import { randomUUID } from 'node:crypto'
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { getProduct } from '~/models/product.server'
import { recordUpload } from '~/models/upload.server'
import { cleanupStaging } from '~/utils/cleanup.server'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { submitProductEditor } from '~/routes/__product-editor.server'
import { explain } from '../support/editor'
import { getS3, headObject, stagingPrefix } from '~/utils/storage.server'
import { createTestAdmin } from '../support/admins'
import { makePng } from '../support/images'
import { listMultipartUploads } from '../support/s3'

async function stage(adminId: number) {
  const key = `${stagingPrefix(adminId)}${randomUUID()}.png`
  await getS3().send(
    new PutObjectCommand({
      Bucket: getEnv().S3_BUCKET,
      Key: key,
      Body: makePng(4, 4),
      ContentType: 'image/png',
    }),
  )
  await recordUpload({
    key,
    adminId,
    fileName: 'a.png',
    contentType: 'image/png',
    declaredSize: 10,
    multipart: false,
  })
  return key
}

async function startMultipart(adminId: number) {
  const key = `${stagingPrefix(adminId)}${randomUUID()}.png`
  const { UploadId } = await getS3().send(
    new CreateMultipartUploadCommand({ Bucket: getEnv().S3_BUCKET, Key: key, ContentType: 'image/png' }),
  )
  return { key, uploadId: UploadId! }
}

async function uploadRow(key: string) {
  const [row] = await getSql()`select key from uploads where key = ${key}`
  return row ?? null
}

describe('cleaning up staging', () => {
  it('removes only unattached uploads older than the age, and can run from two machines at once', async () => {
    const admin = await createTestAdmin('cleanup')
    const oldObject = await stage(admin.id)
    const oldMultipart = await startMultipart(admin.id)
    // An attached image: copied to products/, its upload row marked attached.
    const form = new FormData()
    form.append('name', `Kept ${randomUUID()}`)
    form.append('price', '1')
    form.append('images', new File([new Uint8Array(makePng(9, 9))], 'kept.png', { type: 'image/png' }))
    const created = await submitProductEditor(
      new Request('http://localhost/', { method: 'POST', body: form }),
      admin,
    )
    if (!created.ok) throw new Error(explain(created))

    await new Promise((resolve) => setTimeout(resolve, 2100))
    const newObject = await stage(admin.id)
    const newMultipart = await startMultipart(admin.id)

    const run = () =>
      cleanupStaging({
        s3: getS3(),
        bucket: getEnv().S3_BUCKET,
        sql: getSql(),
        olderThanMs: 2000,
        prefix: stagingPrefix(admin.id),
      })
    const reports = await Promise.all([run(), run()])
    const total = (field: 'deletedObjects' | 'abortedUploads' | 'forgottenUploads') =>
      reports.reduce((n, r) => n + r[field], 0)
    expect(total('abortedUploads')).toBe(1)
    expect(total('forgottenUploads')).toBe(1)
    expect(total('deletedObjects')).toBeGreaterThanOrEqual(1)

    expect(await headObject(oldObject)).toBeNull()
    expect(await uploadRow(oldObject)).toBeNull()
    expect(await headObject(newObject)).not.toBeNull()
    expect(await uploadRow(newObject)).not.toBeNull()
    const uploads = (await listMultipartUploads(stagingPrefix(admin.id))).map((u) => u.UploadId)
    expect(uploads).not.toContain(oldMultipart.uploadId)
    expect(uploads).toContain(newMultipart.uploadId)

    const product = await getProduct({ productId: created.productId })
    expect(await headObject(product!.images[0]!.key)).not.toBeNull()

    expect(await run()).toEqual({ deletedObjects: 0, abortedUploads: 0, forgottenUploads: 0 })
  })

  it('refuses to clean anything outside staging/', async () => {
    await expect(
      cleanupStaging({
        s3: getS3(),
        bucket: getEnv().S3_BUCKET,
        sql: getSql(),
        olderThanMs: 0,
        prefix: 'products/',
      }),
    ).rejects.toThrow('cleanup only touches staging/, not products/')
  })
})
