import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import { Logger, run, runMigrations, type Runner, type TaskList, type WorkerEvents } from 'graphile-worker'
import pg from 'pg'
import { z } from 'zod'
import { ImageBusyError, processImage } from '~/images/process-job.server'
import { forgetUnattachedProcessing, stalledProcessing } from '~/models/image-processing.server'
import { forgetAppliedEdits } from '~/models/product-edits.server'
import { forgetExpiredSessions } from '~/models/admin.server'
import { forgetWorker, recordHeartbeat, releaseSilentWorkers } from '~/models/worker-heartbeat.server'
import { drainStorageDeletions } from '~/models/storage-deletion.server'
import { cleanupStaging } from '~/utils/cleanup.server'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { getS3, STAGING_PREFIX } from '~/utils/storage.server'
import { PROCESS_IMAGE_ATTEMPTS, queueImageProcessing, TASK } from './queue.server'

/**
 * Scheduled work, run by whichever worker is free; graphile-worker records each cron tick in PostgreSQL,
 * so with several servers every tick runs once. Deletions also run as soon as a save queues them.
 */
export const CRONTAB = [
  // Retries of deletions S3 refused, with the backoff each row carries.
  `* * * * * ${TASK.storageDeletions} ?max=1&jobKey=storage-deletions-cron`,
  `17 * * * * ${TASK.cleanup} ?max=3&jobKey=cleanup`,
].join('\n')

const ProcessImagePayload = z.object({ id: z.uuid() })

/** An attached image pending this long with no job has lost it (or predates variants): queued again. */
const STALLED_MS = 10 * 60_000
/** An image another worker holds is asked about again this much later (its claim lapses in 15 s if it died). */
const BUSY_RETRY_MS = 5_000

export const taskList: TaskList = {
  async [TASK.processImage](payload, helpers) {
    const { id } = ProcessImagePayload.parse(payload)
    let outcome
    try {
      outcome = await processImage(id, { final: helpers.job.attempts >= helpers.job.max_attempts })
    } catch (error) {
      if (!(error instanceof ImageBusyError)) throw error
      // An expected race (the early check's job and the save's), not a failure: one line, no stack, and
      // the same job key again a little later, which then finds the image made.
      console.info(
        `[worker] image ${id}: another worker is making it; asking again in ${BUSY_RETRY_MS / 1000} s`,
      )
      await helpers.addJob(
        TASK.processImage,
        { id },
        {
          jobKey: `image:${id}`,
          jobKeyMode: 'replace',
          runAt: new Date(Date.now() + BUSY_RETRY_MS),
          maxAttempts: PROCESS_IMAGE_ATTEMPTS,
        },
      )
      return
    }
    if (outcome === 'failed') console.warn(`[worker] image ${id}: processing failed for good`)
  },
  async [TASK.storageDeletions]() {
    const run = await drainStorageDeletions()
    if (run.failed > 0)
      console.warn(`[worker] storage deletions: ${run.failed} still failing (${run.error}); retrying later`)
  },
  async [TASK.cleanup]() {
    const env = getEnv()
    const sql = getSql()
    const olderThanMs = env.STAGING_EXPIRY_DAYS * 86_400_000
    const staging = await cleanupStaging({ s3: getS3(), bucket: env.S3_BUCKET, sql, olderThanMs })
    const edits = await forgetAppliedEdits({ sql, olderThanMs })
    const sessions = await forgetExpiredSessions({ sql })
    const processing = await forgetUnattachedProcessing({ sql, olderThanMs, stagingPrefix: STAGING_PREFIX })
    const stalled = await stalledProcessing({ sql, olderThanMs: STALLED_MS })
    await queueImageProcessing(sql, stalled)
    console.log(
      `[worker] cleanup: ${staging.deletedObjects} staging objects, ${staging.abortedUploads} multipart uploads, ` +
        `${staging.forgottenUploads} upload records, ${edits} saved-edit keys, ${sessions} expired sessions, ` +
        `${processing} unattached images' variants; ${stalled.length} images queued for variants again`,
    )
  },
}

/** Installs or updates graphile-worker's own tables (schema graphile_worker); safe to run at every start. */
export async function migrateJobQueue(connectionString: string) {
  await runMigrations({ connectionString, logger: quietLogger })
}

// graphile-worker's info lines are per job; only its warnings and errors reach the server's log.
const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error') console.error(`[worker] ${message}`)
  else if (level === 'warning') console.warn(`[worker] ${message}`)
})

/**
 * Liveness. graphile-worker (0.18) leaves a dead worker's jobs locked for four hours; each worker
 * records its pool's id every HEARTBEAT_MS, and every worker, every SWEEP_MS, releases the jobs of any
 * silent for DEAD_AFTER_SECONDS (five missed beats: a busy machine or a slow database is not a death).
 * Worst case from a kill to its job being free again: DEAD_AFTER_SECONDS + SWEEP_MS, about 35 s; the
 * image's own claim (CLAIM_SECONDS, 15 s) has lapsed by then, so the job runs at once, well inside 60 s.
 */
export const HEARTBEAT_MS = 5_000
export const SWEEP_MS = 10_000
export const DEAD_AFTER_SECONDS = 25

/** Beats for `workerId` and sweeps for silent others until stopped; each tick waits for the one before. */
function startLiveness(workerId: string) {
  const me = { workerId, host: hostname(), pid: process.pid }
  let stopped = false
  // Until this first row exists, a crash would leave the pool's jobs to graphile-worker's four hours.
  let beating = recordHeartbeat(me).then(
    () => {},
    (error: Error) => console.warn(`[worker] heartbeat not recorded: ${error.message}`),
  )
  let sweeping = Promise.resolve()
  const beat = () => {
    beating = beating.then(async () => {
      if (stopped) return
      try {
        if ((await recordHeartbeat(me)) === 'registered')
          console.warn(
            `[worker] ${workerId} was taken for dead (silent over ${DEAD_AFTER_SECONDS} s); its jobs went to others`,
          )
      } catch (error) {
        console.warn(`[worker] heartbeat not recorded: ${(error as Error).message}`)
      }
    })
  }
  const sweep = () => {
    sweeping = sweeping.then(async () => {
      if (stopped) return
      try {
        const released = await releaseSilentWorkers({ silentSeconds: DEAD_AFTER_SECONDS })
        if (released.length > 0)
          console.warn(
            `[worker] released the jobs of ${released.join(', ')} (silent over ${DEAD_AFTER_SECONDS} s)`,
          )
      } catch (error) {
        console.warn(`[worker] could not look for dead workers: ${(error as Error).message}`)
      }
    })
  }
  const timers = [setInterval(beat, HEARTBEAT_MS), setInterval(sweep, SWEEP_MS)]
  for (const timer of timers) timer.unref()
  // A worker restarted after a crash frees its predecessor's jobs as soon as they count as silent.
  sweep()
  return {
    registered: beating,
    async stop() {
      stopped = true
      for (const timer of timers) clearInterval(timer)
      await Promise.all([beating, sweeping])
      await forgetWorker({ workerId }).catch((error: Error) =>
        console.warn(`[worker] could not remove its heartbeat (swept later): ${error.message}`),
      )
    },
  }
}

export interface Worker {
  /** Finishes the jobs in hand, then closes the worker's connections (before the database stops). */
  stop(): Promise<void>
}

/**
 * Starts a worker on the app's database: the web server runs one by default, `npm run worker` runs one
 * alone. Its connection pool is ours, so that a database going away is logged, never a crash.
 */
export async function startWorker({
  // Image jobs wait for one of IMAGE_PROCESSING_CONCURRENCY slots; two more keep deletions moving.
  concurrency = getEnv().IMAGE_PROCESSING_CONCURRENCY + 2,
}: { concurrency?: number } = {}): Promise<Worker> {
  const pool = new pg.Pool({ connectionString: getEnv().DATABASE_URL, max: concurrency + 2 })
  const lost = (error: Error) => console.warn(`[worker] database connection lost: ${error.message}`)
  pool.on('error', lost)
  pool.on('connect', (client) => client.on('error', lost))
  // The pool's id is what graphile-worker writes in jobs.locked_by (for all `concurrency` workers of
  // the pool); it is known only once the pool exists, so the heartbeat starts from this event.
  const events: WorkerEvents = new EventEmitter()
  let liveness: ReturnType<typeof startLiveness> | undefined
  events.once('pool:create', ({ workerPool }) => (liveness = startLiveness(workerPool.id)))
  let runner: Runner
  try {
    runner = await run({
      events,
      pgPool: pool,
      concurrency,
      noHandleSignals: true,
      pollInterval: 2_000,
      taskList,
      crontab: CRONTAB,
      logger: quietLogger,
    })
  } catch (error) {
    await liveness?.stop()
    await pool.end()
    throw error
  }
  await liveness?.registered
  return {
    async stop() {
      // Jobs in hand finish (or are given back) first, with their claims still renewed and the heartbeat still beating.
      await runner.stop()
      await liveness?.stop()
      await pool.end()
    },
  }
}
