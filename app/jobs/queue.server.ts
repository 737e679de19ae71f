import type { TransactionSql } from 'postgres'
import type { Sql } from '~/utils/db.server'

/** The jobs the worker runs (app/jobs/worker.server.ts); enqueued by name, in SQL. */
export const TASK = {
  storageDeletions: 'storage_deletions',
  cleanup: 'cleanup',
  processImage: 'process_image',
} as const

/** Attempts of one image's processing before it is marked failed (backoff: e^n s, about 2 min in all). */
export const PROCESS_IMAGE_ATTEMPTS = 5

/**
 * Asks a worker to run the storage deletion queue once `tx` commits (nothing happens if it rolls back).
 * One job key: a burst of saves wakes the worker once, and a run already under way is followed by another.
 */
export async function wakeStorageDeletions(tx: TransactionSql | Sql) {
  await tx`
    select graphile_worker.add_job(${TASK.storageDeletions}, job_key => 'storage-deletions', max_attempts => 3)`
}

/**
 * Queues the making of these images' variants, once `tx` commits. One job per image (its job key): an
 * image queued twice (checked on upload, then attached) is made once, and its first run is not delayed.
 */
export async function queueImageProcessing(tx: TransactionSql | Sql, processingIds: readonly string[]) {
  if (processingIds.length === 0) return
  await tx`
    select graphile_worker.add_job(
      ${TASK.processImage}, json_build_object('id', id), job_key => 'image:' || id,
      job_key_mode => 'preserve_run_at', max_attempts => ${PROCESS_IMAGE_ATTEMPTS})
    from unnest(${processingIds as string[]}::uuid[]) as id`
}
