import type { TransactionSql } from 'postgres'
import type { Sql } from '~/utils/db.server'

/** The jobs the worker runs (app/jobs/worker.server.ts); enqueued by name, in SQL. */
export const TASK = { storageDeletions: 'storage_deletions', cleanup: 'cleanup' } as const

/**
 * Asks a worker to run the storage deletion queue once `tx` commits (nothing happens if it rolls back).
 * One job key: a burst of saves wakes the worker once, and a run already under way is followed by another.
 */
export async function wakeStorageDeletions(tx: TransactionSql | Sql) {
  await tx`
    select graphile_worker.add_job(${TASK.storageDeletions}, job_key => 'storage-deletions', max_attempts => 3)`
}
