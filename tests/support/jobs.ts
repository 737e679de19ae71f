import { expect } from 'vitest'
import { TASK } from '~/jobs/queue.server'
import { taskList } from '~/jobs/worker.server'
import { getSql } from '~/utils/db.server'

/**
 * What the app server's worker does after a save that queued deletions: checks the save woke it (a
 * storage_deletions job is queued) and runs that job here, as no worker runs beside the vitest tests.
 */
export async function runQueuedDeletions() {
  const jobs = await getSql()`
    select 1 from graphile_worker.jobs where task_identifier = ${TASK.storageDeletions}`
  expect(jobs.length, 'a storage_deletions job is queued').toBeGreaterThan(0)
  await taskList[TASK.storageDeletions]!({}, {} as never)
}
