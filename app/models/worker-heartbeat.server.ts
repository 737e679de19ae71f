import { getSql } from '~/utils/db.server'

/**
 * Records that this worker (its graphile-worker pool id) is alive now. 'registered' on the first call,
 * and later when its row had been removed: another worker took it for dead and released its jobs.
 */
export async function recordHeartbeat({
  workerId,
  host,
  pid,
}: {
  workerId: string
  host: string
  pid: number
}): Promise<'registered' | 'alive'> {
  const [row] = await getSql()<{ inserted: boolean }[]>`
    insert into worker_heartbeats (worker_id, host, pid) values (${workerId}, ${host}, ${pid})
    on conflict (worker_id) do update set last_seen = now()
    returning (xmax = 0) as inserted`
  return row!.inserted ? 'registered' : 'alive'
}

/** A worker stopped cleanly (its jobs finished or given back): nobody needs to sweep it. */
export async function forgetWorker({ workerId }: { workerId: string }) {
  await getSql()`delete from worker_heartbeats where worker_id = ${workerId}`
}

/**
 * Releases the jobs of workers silent for over `silentSeconds` and forgets them, in one transaction:
 * their jobs are at once free for any worker. Safe when several run at once (each row is taken by one
 * of them). Returns the ids released.
 */
export async function releaseSilentWorkers({ silentSeconds }: { silentSeconds: number }) {
  return getSql().begin(async (tx) => {
    const dead = await tx<{ workerId: string }[]>`
      delete from worker_heartbeats
      where worker_id in (
        select worker_id from worker_heartbeats
        where last_seen < now() - ${silentSeconds} * interval '1 second'
        for update skip locked)
      returning worker_id as "workerId"`
    const ids = dead.map((row) => row.workerId)
    if (ids.length > 0) await tx`select graphile_worker.force_unlock_workers(${ids}::text[])`
    return ids
  })
}

/** The workers recorded as alive, with how long since each was last heard from. */
export async function liveWorkers() {
  return getSql()<{ workerId: string; host: string; pid: number; silentMs: number }[]>`
    select worker_id as "workerId", host, pid,
           (extract(epoch from now() - last_seen) * 1000)::int as "silentMs"
    from worker_heartbeats order by started_at`
}
