import { randomUUID } from 'node:crypto'
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Admin } from '~/models/admin.server'
import { getProduct } from '~/models/product.server'
import { ChangedUploadError, createProduct } from '~/products/save.server'
import {
  drainStorageDeletions,
  PENDING_COPY_SECONDS,
  recordPendingCopies,
} from '~/models/storage-deletion.server'
import { recordUpload } from '~/models/upload.server'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { submitProductEditor } from '~/routes/__product-editor.server'
import { explain, failed } from '../support/editor'
import { getUploadLimits } from '~/uploads/submission.server'
import { checkStagedUpload, type StagedImage } from '~/uploads/staged-image.server'
import { getS3, newStagingKey } from '~/utils/storage.server'
import { refExpiry, signUploadRef } from '~/uploads/refs.server'
import { signUploadRequest } from '~/uploads/signing.server'
import { createTestAdmin } from '../support/admins'
import { makePng, makePngHeader } from '../support/images'
import { listKeys } from '../support/s3'

let admin: Admin
beforeAll(async () => {
  admin = await createTestAdmin('verified')
})

/** An object in the admin's staging namespace, issued like a browser upload, with its reference. */
async function stage(
  bytes: Buffer,
  { fileName = 'photo.png', metadata = {}, contentType = 'image/png' } = {},
) {
  const key = newStagingKey(admin.id, 'image/png')
  await recordUpload({
    key,
    adminId: admin.id,
    fileName,
    contentType: 'image/png',
    declaredSize: bytes.length,
    multipart: false,
  })
  await getS3().send(
    new PutObjectCommand({
      Bucket: getEnv().S3_BUCKET,
      Key: key,
      Body: bytes,
      ContentType: contentType,
      Metadata: metadata,
    }),
  )
  const ref = signUploadRef({
    key,
    adminId: admin.id,
    contentType: 'image/png',
    fileName,
    size: bytes.length,
    expiresAt: refExpiry(),
  })
  return { key, ref, fileName }
}

async function checked(key: string, fileName: string): Promise<StagedImage> {
  const ref = {
    key,
    adminId: admin.id,
    contentType: 'image/png' as const,
    fileName,
    size: 0,
    expiresAt: refExpiry(),
  }
  const check = await checkStagedUpload(ref, getUploadLimits())
  if (!check.ok) throw new Error(check.error)
  return check.image
}

function formRequest(fields: [string, string][]) {
  const form = new FormData()
  for (const [name, value] of fields) form.append(name, value)
  return new Request('http://localhost/products/new', { method: 'POST', body: form })
}

describe('exactly the checked bytes are attached', () => {
  it('refuses an object replaced between its check and its copy, and writes nothing', async () => {
    const { key, fileName } = await stage(makePng(40, 30))
    const image = await checked(key, fileName)
    // Someone holding the upload URL swaps the bytes after the check.
    await getS3().send(
      new PutObjectCommand({
        Bucket: getEnv().S3_BUCKET,
        Key: key,
        Body: Buffer.from('<html>not an image</html>'),
      }),
    )
    const idempotencyKey = randomUUID()
    const attempt = createProduct({
      adminId: admin.id,
      fields: { name: 'Swapped', price: 100, description: '' },
      images: [image],
      idempotencyKey,
    })
    await expect(attempt).rejects.toBeInstanceOf(ChangedUploadError)
    await expect(attempt).rejects.toThrow(
      `${fileName} changed in storage after it was uploaded and checked; add it again.`,
    )
    const rows = await getSql()`select 1 from products where idempotency_key = ${idempotencyKey}`
    expect(rows).toHaveLength(0)
  })

  it('stores the sniffed type and none of the metadata the uploader chose', async () => {
    const { ref } = await stage(makePng(12, 10), {
      contentType: 'text/html',
      metadata: { 'x-evil': 'yes' },
    })
    const result = await submitProductEditor(
      formRequest([
        ['name', `Clean ${randomUUID()}`],
        ['price', '1'],
        ['imageRef', ref],
      ]),
      admin,
    )
    if (!result.ok) throw new Error(explain(result))
    const [saved] = (await getProduct({ productId: result.productId }))!.images
    const head = await getS3().send(new HeadObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: saved!.key }))
    expect(head.ContentType).toBe('image/png')
    expect(head.Metadata).toEqual({})
  })

  it('a save that fails after copying leaves every copy recorded, and the worker removes them', async () => {
    const sql = getSql()
    // The database refuses this one product after its images were copied into originals/<id>/.
    const name = `Crash-${randomUUID()}`
    await sql.unsafe(`
      create or replace function refuse_crash_products() returns trigger language plpgsql as $$
      begin
        if new.name like 'Crash-%' then raise exception 'simulated failure of product %', new.id; end if;
        return new;
      end $$;
      create or replace trigger refuse_crash_products before insert on products
        for each row execute function refuse_crash_products();`)
    const { key, fileName } = await stage(makePng(8, 8))
    const image = await checked(key, fileName)
    const failure = await createProduct({
      adminId: admin.id,
      fields: { name, price: 1, description: '' },
      images: [image],
      idempotencyKey: randomUUID(),
    }).catch((error: Error) => error)
    const productId = /simulated failure of product ([0-9a-f-]{36})/.exec(String(failure))![1]!
    const copies = await listKeys(`originals/${productId}/`)
    expect(copies).toHaveLength(1)
    const recorded = await sql<{ key: string }[]>`select key from storage_deletions where key = ${copies[0]!}`
    expect(recorded).toHaveLength(1)
    await drainStorageDeletions()
    expect(await listKeys(`originals/${productId}/`)).toEqual([])
  })

  it('records a copy before it is made, and the worker leaves it alone while its save may still commit', async () => {
    const key = `originals/${randomUUID()}/pending.png`
    await recordPendingCopies([key])
    await getS3().send(new PutObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: key, Body: makePng(2, 2) }))
    await drainStorageDeletions()
    expect(await listKeys(key)).toEqual([key])
    // A save that died: after the grace period its copy goes.
    const later = new Date(Date.now() + (PENDING_COPY_SECONDS + 1) * 1000)
    await drainStorageDeletions({ now: later })
    expect(await listKeys(key)).toEqual([])
  })
})

describe('dimensions are bounded', () => {
  it('refuses, by name, an image whose header claims more pixels than MAX_IMAGE_PIXELS', async () => {
    const { ref } = await stage(makePngHeader(10_000, 10_000), { fileName: 'bomb.png' })
    const result = await submitProductEditor(
      formRequest([
        ['name', `Bomb ${randomUUID()}`],
        ['price', '1'],
        ['imageRef', ref],
      ]),
      admin,
    )
    expect(result.ok).toBe(false)
    expect(failed(result).errors.images).toEqual([
      `bomb.png has 100 megapixels (10000 × 10000); the limit is ${getEnv().MAX_IMAGE_PIXELS / 1_000_000} megapixels.`,
    ])
  })

  it('refuses sides past 16383 pixels and sizes that do not fit the database, without a 500', async () => {
    for (const [width, height] of [
      [20_000, 1],
      [1, 3_000_000_000],
    ] as const) {
      const { ref } = await stage(makePngHeader(width, height), { fileName: `wide-${width}.png` })
      const result = await submitProductEditor(
        formRequest([
          ['name', `Wide ${randomUUID()}`],
          ['price', '1'],
          ['imageRef', ref],
        ]),
        admin,
      )
      expect(failed(result).errors.images?.[0]).toMatch(
        new RegExp(
          `^wide-${width}\\.png is ${width} × ${height} pixels; an image may be at most 16383 pixels on a side\\.$`,
        ),
      )
    }
  })

  it('refuses a bomb in the form without JavaScript before it reaches storage', async () => {
    const form = new FormData()
    form.append('name', `No-JS bomb ${randomUUID()}`)
    form.append('price', '1')
    form.append(
      'images',
      new File([new Uint8Array(makePngHeader(9_000, 9_000))], 'nojs-bomb.png', { type: 'image/png' }),
    )
    const before = await listKeys(`staging/${admin.id}/`)
    const result = await submitProductEditor(
      new Request('http://localhost/', { method: 'POST', body: form }),
      admin,
    )
    expect(failed(result).errors.images).toEqual([
      `nojs-bomb.png has 81 megapixels (9000 × 9000); the limit is ${getEnv().MAX_IMAGE_PIXELS / 1_000_000} megapixels.`,
    ])
    expect(await listKeys(`staging/${admin.id}/`)).toEqual(before)
  })
})

describe('a multipart upload id is bound to its upload', () => {
  it('refuses to sign parts for a second upload started with the same create URL', async () => {
    const create = await signUploadRequest(
      {
        operation: 'createMultipartUpload',
        fileName: 'twice.png',
        contentType: 'image/png',
        size: 20 * 1024 * 1024,
      },
      admin,
    )
    const start = () => fetch(create.url, { method: 'POST', headers: create.headers })
    const idOf = async (r: Response) => /<UploadId>([^<]+)<\/UploadId>/.exec(await r.text())![1]!
    const first = await idOf(await start())
    const second = await idOf(await start())
    expect(second).not.toBe(first)
    const part = (uploadId: string) =>
      signUploadRequest(
        { operation: 'uploadPart', key: create.key!, ref: create.ref!, uploadId, partNumber: 1 },
        admin,
      )
    await expect(part(first)).resolves.toMatchObject({ method: 'PUT' })
    await expect(part(second)).rejects.toMatchObject({
      status: 403,
      message: 'That upload id does not belong to this upload.',
    })
    await expect(
      signUploadRequest(
        { operation: 'completeMultipartUpload', key: create.key!, ref: create.ref!, uploadId: second },
        admin,
      ),
    ).rejects.toMatchObject({ status: 403 })
  })
})
