import type { S3Client } from '@aws-sdk/client-s3'
import type { TransactionSql } from 'postgres'
import { getSql, type Sql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { errorMessage } from '~/utils/errors'
import { deleteObjectsEach, getS3 } from '~/utils/storage.server'

const BATCH = 500
const MAX_BACKOFF_SECONDS = 3600
/** A claimed row is left alone this long; a run that died mid-way gives its rows back after it. */
const CLAIM_SECONDS = 300
/**
 * Objects a save or a worker is about to write (copies into originals/, variants) are recorded here
 * before they are written, due only after this long: the transaction that puts them to use removes the
 * record, so only the objects of a failed or crashed save or job are ever deleted.
 */
export const PENDING_COPY_SECONDS = 15 * 60

export interface DeletionRun {
  deleted: number
  failed: number
  error?: string
}

/**
 * Deletes a batch of recorded objects from the bucket. The rows are claimed and committed first (SKIP
 * LOCKED, so several workers share the work), the S3 calls run outside any transaction, and then each
 * key S3 confirmed is forgotten while each one it refused keeps its row with the error and a later
 * attempt (doubling, at most an hour).
 */
export async function processStorageDeletions({
  sql = getSql(),
  s3 = getS3(),
  bucket = getEnv().S3_BUCKET,
  now,
}: { sql?: Sql; s3?: S3Client; bucket?: string; now?: Date } = {}): Promise<DeletionRun> {
  // The database's clock, the one rows were stamped with (a test may pass another time).
  const at = now ? sql`${now}::timestamptz` : sql`now()`
  const claimed = await sql<{ key: string }[]>`
    update storage_deletions
    set next_attempt_at = ${at} + ${CLAIM_SECONDS} * interval '1 second'
    where key in (
      select key from storage_deletions
      where next_attempt_at <= ${at}
      order by requested_at
      limit ${BATCH}
      for update skip locked)
    returning key`
  if (claimed.length === 0) return { deleted: 0, failed: 0 }
  const keys = claimed.map((row) => row.key)
  let outcome: Awaited<ReturnType<typeof deleteObjectsEach>>
  try {
    outcome = await deleteObjectsEach(keys, { s3, bucket })
  } catch (error) {
    const message = errorMessage(error) || (error as Error).name
    outcome = { deleted: [], failed: keys.map((key) => ({ key, error: message })) }
  }
  if (outcome.deleted.length > 0) {
    await sql`delete from storage_deletions where key in ${sql(outcome.deleted)}`
  }
  if (outcome.failed.length > 0) {
    await sql`
      update storage_deletions as d
      set attempts = d.attempts + 1,
          last_error = v.error,
          next_attempt_at = ${at}
            + least(${MAX_BACKOFF_SECONDS}, 10 * power(2, d.attempts)) * interval '1 second'
      from (values ${sql(outcome.failed.map((f) => [f.key, f.error]))}) as v (key, error)
      where d.key = v.key`
  }
  return {
    deleted: outcome.deleted.length,
    failed: outcome.failed.length,
    ...(outcome.failed[0] ? { error: outcome.failed[0].error } : {}),
  }
}

/** Runs deletions until none is due (or the due ones keep failing); returns the totals. */
export async function drainStorageDeletions(options: Parameters<typeof processStorageDeletions>[0] = {}) {
  const total: DeletionRun = { deleted: 0, failed: 0 }
  for (;;) {
    const run = await processStorageDeletions(options)
    total.deleted += run.deleted
    total.failed += run.failed
    total.error ??= run.error
    if (run.deleted === 0) return total
  }
}

/** Records objects for deletion in `tx`, due now (they are deleted once it commits). */
export async function queueDeletions(tx: TransactionSql | Sql, keys: readonly string[]) {
  if (keys.length === 0) return
  await tx`
    insert into storage_deletions ${tx(keys.map((key) => ({ key })))}
    on conflict (key) do update set next_attempt_at = least(storage_deletions.next_attempt_at, now())`
}

/** Records the keys of copies about to be made, due only after PENDING_COPY_SECONDS (see there). */
export async function recordPendingCopies(keys: readonly string[]) {
  if (keys.length === 0) return
  await getSql()`
    insert into storage_deletions (key, next_attempt_at)
    select key, now() + ${PENDING_COPY_SECONDS} * interval '1 second' from unnest(${keys as string[]}::text[]) as key`
}

/** The copies are now used by a product: forget their pending records, in the attaching transaction. */
export async function keepCopies(tx: TransactionSql, keys: readonly string[]) {
  if (keys.length === 0) return
  await tx`delete from storage_deletions where key in ${tx(keys)}`
}

/** The copies are not used after all (the save failed or lost a race): delete them as soon as possible. */
export async function abandonCopies(keys: readonly string[]) {
  if (keys.length === 0) return
  const sql = getSql()
  await sql`update storage_deletions set next_attempt_at = now() where key in ${sql(keys)}`
}

export async function countPendingDeletions({ sql = getSql() }: { sql?: Sql } = {}) {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from storage_deletions`
  return row!.n
}
