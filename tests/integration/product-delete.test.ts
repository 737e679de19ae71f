import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import {
  DeleteBucketPolicyCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { deleteProduct, getProduct } from '~/models/product.server'
import {
  countPendingDeletions,
  drainStorageDeletions,
  processStorageDeletions,
} from '~/models/storage-deletion.server'
import { getSql } from '~/utils/db.server'
import { submitProductEditor } from '~/routes/__product-editor.server'
import { explain } from '../support/editor'
import { getEnv } from '~/utils/env.server'
import { getS3, headObject } from '~/utils/storage.server'
import { freePort, sleep, stopPid } from '../../server/processes'
import { createTestAdmin } from '../support/admins'
import { makePng } from '../support/images'
import { runQueuedDeletions } from '../support/jobs'
import { s3ClientFor, startTestServices } from '../support/services'

describe('deleting a product', () => {
  it('removes the product, its image rows and, after the commit, its objects', async () => {
    const admin = await createTestAdmin('delete')
    const form = new FormData()
    form.append('name', `Doomed ${randomUUID()}`)
    form.append('price', '1')
    for (const w of [5, 6])
      form.append('images', new File([new Uint8Array(makePng(w, w))], `${w}.png`, { type: 'image/png' }))
    const created = await submitProductEditor(
      new Request('http://localhost/', { method: 'POST', body: form }),
      admin,
    )
    if (!created.ok) throw new Error(explain(created))
    const keys = (await getProduct({ productId: created.productId }))!.images.map((i) => i.key)

    expect(await deleteProduct({ productId: created.productId })).toBe(true)
    expect(await getProduct({ productId: created.productId })).toBeNull()
    const [rows] = await getSql()<
      { n: number }[]
    >`select count(*)::int as n from product_images where key in ${getSql()(keys)}`
    expect(rows!.n).toBe(0)
    // The admin's request only queued them: S3 is not asked while the admin waits.
    for (const key of keys) expect(await headObject(key)).not.toBeNull()
    await runQueuedDeletions()
    for (const key of keys) expect(await headObject(key)).toBeNull()
    const [pending] = await getSql()<
      { n: number }[]
    >`select count(*)::int as n from storage_deletions where key in ${getSql()(keys)}`
    expect(pending!.n).toBe(0)
    expect(await deleteProduct({ productId: created.productId })).toBe(false)
  })

  it('forgets each key S3 deleted even when S3 refuses others in the same batch', async () => {
    const s3 = getS3()
    const bucket = getEnv().S3_BUCKET
    const locked = `locked-${randomUUID()}/`
    const keys = [`${locked}kept.png`, `products/${randomUUID()}/gone.png`]
    for (const key of keys)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: makePng(2, 2) }))
    // S3 refuses to delete anything under `locked`, as a bucket policy or object lock would.
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:DeleteObject',
              Resource: `arn:aws:s3:::${bucket}/${locked}*`,
            },
          ],
        }),
      }),
    )
    const sql = getSql()
    try {
      await sql`insert into storage_deletions ${sql(keys.map((key) => ({ key })))}`
      await drainStorageDeletions()
      const rows = await sql<{ key: string; attempts: number; lastError: string }[]>`
        select key, attempts, last_error as "lastError" from storage_deletions where key in ${sql(keys)}`
      expect(rows).toEqual([{ key: keys[0], attempts: 1, lastError: expect.stringMatching(/^AccessDenied/) }])
      expect(await headObject(keys[1]!)).toBeNull()
      expect(await headObject(keys[0]!)).not.toBeNull()
    } finally {
      await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }))
      await sql`delete from storage_deletions where key = ${keys[0]!}`
    }
  })

  it('keeps the deletion while S3 is down and finishes it once S3 is back', async () => {
    // Services of its own: this test stops the gateway.
    const services = await startTestServices(await freePort())
    const { env } = services
    const sql = postgres(env.DATABASE_URL!, { max: 2, onnotice: () => {} })
    const s3 = s3ClientFor(env)
    const bucket = env.S3_BUCKET!
    const cephDir = path.join(env.DATA_DIR!, 'ceph')
    const rgwPid = () => Number(readFileSync(path.join(cephDir, 'run', 'client.rgw.pid'), 'utf8'))
    let restarted: ReturnType<typeof spawn> | undefined
    try {
      const key = `products/${randomUUID()}/a.png`
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: makePng(2, 2) }))
      await sql`insert into storage_deletions (key) values (${key})`

      await stopPid(rgwPid())
      const failed = await processStorageDeletions({ sql, s3, bucket })
      expect(failed).toMatchObject({ deleted: 0, failed: 1 })
      const [row] = await sql<{ attempts: number; lastError: string }[]>`
        select attempts, last_error as "lastError" from storage_deletions where key = ${key}`
      expect(row).toMatchObject({ attempts: 1, lastError: expect.any(String) })
      expect(await countPendingDeletions({ sql })).toBe(1)

      restarted = spawn('radosgw', ['-c', path.join(cephDir, 'ceph.conf'), '-f', '-n', 'client.rgw'], {
        stdio: 'ignore',
      })
      for (let i = 0; i < 200; i++) {
        if (
          await fetch(env.S3_ENDPOINT!).then(
            (r) => r.status < 500,
            () => false,
          )
        )
          break
        await sleep(100)
      }
      // Not yet due: the retry waits for its backoff.
      expect(await processStorageDeletions({ sql, s3, bucket })).toEqual({ deleted: 0, failed: 0 })
      const later = new Date(Date.now() + 3_600_000)
      expect(await processStorageDeletions({ sql, s3, bucket, now: later })).toEqual({
        deleted: 1,
        failed: 0,
      })
      await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      })
      expect(await countPendingDeletions({ sql })).toBe(0)
    } finally {
      s3.destroy()
      await sql.end()
      if (restarted?.pid) await stopPid(restarted.pid)
      await services.stop()
    }
  })
})
