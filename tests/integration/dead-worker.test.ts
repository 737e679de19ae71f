import { randomBytes, randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { migrate } from '../../db/migrate'
import { queueImageProcessing } from '~/jobs/queue.server'
import { migrateJobQueue } from '~/jobs/worker.server'
import { ensureProcessing, getProcessing } from '~/models/image-processing.server'
import { closeSql, createSql, getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { getS3 } from '~/utils/storage.server'
import { makePhoto } from '../support/photos'
import { listKeys } from '../support/s3'
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process'

/**
 * Worker processes of their own on a database of their own: the other test files run image jobs in
 * their own processes (runOnce), which must not take these images, and no worker of theirs may sweep.
 */
const database = `dead_worker_${randomBytes(4).toString('hex')}`
const sharedUrl = inject('testEnv').DATABASE_URL!
const url = Object.assign(new URL(sharedUrl), { pathname: `/${database}` }).toString()
const children: WorkerProcess[] = []

beforeAll(async () => {
  const admin = postgres(sharedUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${database}`)
  await admin.end()
  // Before anything in this process reads the settings: the app's pool goes to this database.
  process.env.DATABASE_URL = url
  const sql = createSql(url, { max: 1 })
  await migrate(sql)
  await sql.end()
  await migrateJobQueue(url)
})

afterAll(async () => {
  for (const child of children) await child.stop()
  await closeSql()
  const admin = postgres(sharedUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`drop database if exists ${database} with (force)`)
  await admin.end()
})

async function startWorker() {
  const child = await startWorkerProcess({ ...inject('testEnv'), DATABASE_URL: url })
  children.push(child)
  return child
}

/** A 12 MP camera photo stored as a product's original, with its processing queued as a save does. */
async function queuedPhoto() {
  const key = `originals/dead-worker/${randomUUID()}.jpg`
  const put = await getS3().send(
    new PutObjectCommand({
      Bucket: getEnv().S3_BUCKET,
      Key: key,
      Body: await makePhoto(4000, 3000),
      ContentType: 'image/jpeg',
    }),
  )
  const [processing] = await ensureProcessing(getSql(), [{ sourceKey: key, etag: put.ETag! }])
  await queueImageProcessing(getSql(), [processing!.id])
  return processing!.id
}

interface ClaimRow {
  status: string
  claimedBy: string | null
  claimedAt: Date | null
  claimedUntil: Date | null
}

async function claimOf(id: string) {
  const [row] = await getSql()<ClaimRow[]>`
    select status, claimed_by as "claimedBy", claimed_at as "claimedAt", claimed_until as "claimedUntil"
    from image_processing where id = ${id}`
  return row!
}

const holderOf = (child: WorkerProcess) => `${hostname()}/${child.pid}`

/** Waits until `child` holds the claim on the image, i.e. it is in the middle of making its variants. */
async function claimedBy(id: string, child: WorkerProcess) {
  await expect
    .poll(async () => (await claimOf(id)).claimedBy, { timeout: 60_000, interval: 20 })
    .toBe(holderOf(child))
}

async function jobOf(id: string) {
  const [job] = await getSql()<{ lockedBy: string | null; attempts: number }[]>`
    select locked_by as "lockedBy", attempts from graphile_worker.jobs where key = ${`image:${id}`}`
  return job ?? null
}

/** The worker ids the processes have recorded as alive. */
async function heartbeats() {
  const rows = await getSql()<{ workerId: string; pid: number }[]>`
    select worker_id as "workerId", pid from worker_heartbeats`
  return rows
}

/** The image's variants: all of one generation, and no object left under its prefix but those (or ones queued for deletion). */
async function expectOneSetOfVariants(id: string) {
  const { variants } = (await getProcessing([id])).get(id)!
  expect(variants.map((v) => v.width)).toEqual([256, 512, 1024, 2048])
  const generations = new Set(variants.map((v) => v.key.split('/')[2]))
  expect(generations.size).toBe(1)
  const queued = await getSql()<{ key: string }[]>`
    select key from storage_deletions where key like ${`variants/${id}/%`}`
  const stray = (await listKeys(`variants/${id}/`)).filter(
    (key) => !variants.some((v) => v.key === key) && !queued.some((q) => q.key === key),
  )
  expect(stray).toEqual([])
}

describe('a dead worker never strands an image', () => {
  it('gives the image of a worker killed mid-job (SIGKILL) to another worker within 60 s, made once', async () => {
    const id = await queuedPhoto()
    const first = await startWorker()
    await claimedBy(id, first)
    // The job is locked by the pool id the process beats for, or the sweeper could never free it.
    const [beat] = (await heartbeats()).filter((h) => h.pid === first.pid)
    expect((await jobOf(id))?.lockedBy).toBe(beat!.workerId)

    process.kill(first.pid, 'SIGKILL')
    await first.exited
    const killedAt = Date.now()
    const lastClaim = await claimOf(id)
    expect(lastClaim.status).toBe('pending')

    const second = await startWorker()
    const claims = new Set<string>()
    let secondClaimedAt: Date | null = null
    await expect
      .poll(
        async () => {
          const row = await claimOf(id)
          if (row.claimedBy) claims.add(row.claimedBy)
          if (row.claimedBy === holderOf(second)) secondClaimedAt ??= row.claimedAt
          return row.status
        },
        { timeout: 90_000, interval: 100 },
      )
      .toBe('ready')
    const recoveryMs = Date.now() - killedAt
    console.log(`[dead-worker] ready ${(recoveryMs / 1000).toFixed(1)} s after the kill`)
    expect(recoveryMs).toBeLessThan(60_000)

    // Made by the second process, which claimed it only after the dead one's claim had lapsed.
    expect([...claims].filter((c) => c !== holderOf(first))).toEqual([holderOf(second)])
    expect(secondClaimedAt, 'the second worker was seen holding the claim').not.toBeNull()
    expect(+secondClaimedAt!).toBeGreaterThan(+lastClaim.claimedUntil!)
    expect(second.output()).toContain(`released the jobs of ${beat!.workerId}`)
    expect(await jobOf(id)).toBeNull()
    await expectOneSetOfVariants(id)
    expect((await heartbeats()).map((h) => h.pid)).toEqual([second.pid])
    await second.stop()
  }, 180_000)

  it('a worker stopped with SIGTERM finishes or gives back its job, and forgets its heartbeat', async () => {
    const id = await queuedPhoto()
    const worker = await startWorker()
    await claimedBy(id, worker)
    process.kill(worker.pid, 'SIGTERM')
    expect(await worker.exited).toEqual([0, null])
    // Nothing is left for a sweeper: no heartbeat, no job locked, no claim held.
    expect((await heartbeats()).filter((h) => h.pid === worker.pid)).toEqual([])
    expect((await jobOf(id))?.lockedBy ?? null).toBeNull()
    const row = await claimOf(id)
    expect(row.claimedBy).toBeNull()
    console.log(`[dead-worker] after SIGTERM the image was ${row.status}`)
    if (row.status !== 'ready') {
      // Given back: the next worker takes it at once, without waiting for anyone to be taken for dead.
      const next = await startWorker()
      await expect.poll(async () => (await claimOf(id)).status, { timeout: 60_000 }).toBe('ready')
      expect(next.output()).not.toContain('released the jobs of')
      await next.stop()
    }
    await expectOneSetOfVariants(id)
  }, 120_000)
})
