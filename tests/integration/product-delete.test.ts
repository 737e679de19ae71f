import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { deleteProduct, getProduct } from '~/models/product.server'
import { countPendingDeletions, processStorageDeletions } from '~/models/storage-deletion.server'
import { getSql } from '~/utils/db.server'
import { submitProductForm } from '~/utils/product-form.server'
import { headObject } from '~/utils/storage.server'
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
    const created = await submitProductForm(
      new Request('http://localhost/', { method: 'POST', body: form }),
      admin,
    )
    if (!created.ok) throw new Error(JSON.stringify(created.errors))
    const keys = (await getProduct({ productId: created.productId }))!.images.map((i) => i.key)

    expect(await deleteProduct({ productId: created.productId })).toBe(true)
    expect(await getProduct({ productId: created.productId })).toBeNull()
    const [rows] = await getSql()<
      { n: number }[]
    >`select count(*)::int as n from product_images where key in ${getSql()(keys)}`
    expect(rows!.n).toBe(0)
    await runQueuedDeletions()
    for (const key of keys) expect(await headObject(key)).toBeNull()
    const [pending] = await getSql()<
      { n: number }[]
    >`select count(*)::int as n from storage_deletions where key in ${getSql()(keys)}`
    expect(pending!.n).toBe(0)
    expect(await deleteProduct({ productId: created.productId })).toBe(false)
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
