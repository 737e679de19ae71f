import type { S3Client } from '@aws-sdk/client-s3'
import { getSql, type Sql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { deleteObjects, getS3 } from '~/utils/storage.server'

const BATCH = 500
const MAX_BACKOFF_SECONDS = 3600

export interface DeletionRun {
  deleted: number
  failed: number
  error?: string
}

/**
 * Deletes a batch of recorded objects from the bucket and forgets them once S3 confirms. On failure the
 * rows stay, with the error and a later next attempt (doubling, at most an hour). Rows are claimed with
 * SKIP LOCKED, so several servers can run this at once without deleting twice.
 */
export async function processStorageDeletions({
  sql = getSql(),
  s3 = getS3(),
  bucket = getEnv().S3_BUCKET,
  now = new Date(),
}: { sql?: Sql; s3?: S3Client; bucket?: string; now?: Date } = {}): Promise<DeletionRun> {
  return sql.begin(async (tx) => {
    const due = await tx<{ key: string; attempts: number }[]>`
      select key, attempts from storage_deletions
      where next_attempt_at <= ${now}
      order by requested_at
      limit ${BATCH}
      for update skip locked`
    if (due.length === 0) return { deleted: 0, failed: 0 }
    const keys = due.map((row) => row.key)
    try {
      await deleteObjects(keys, { s3, bucket })
    } catch (error) {
      const message = (error as Error).message || (error as Error).name
      await tx`
        update storage_deletions
        set attempts = attempts + 1,
            last_error = ${message},
            next_attempt_at = ${now}::timestamptz
              + least(${MAX_BACKOFF_SECONDS}, 10 * power(2, attempts)) * interval '1 second'
        where key in ${tx(keys)}`
      return { deleted: 0, failed: keys.length, error: message }
    }
    await tx`delete from storage_deletions where key in ${tx(keys)}`
    return { deleted: keys.length, failed: 0 }
  })
}

export async function countPendingDeletions({ sql = getSql() }: { sql?: Sql } = {}) {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from storage_deletions`
  return row!.n
}
