-- Live job workers. graphile-worker keeps a dead worker's jobs locked for four hours; each worker
-- process records its pool's id here every few seconds, and every live worker releases the jobs of
-- any that fell silent (app/jobs/worker.server.ts), so a killed worker strands nothing for long.
create table worker_heartbeats (
  -- graphile-worker's pool id (`pool-<hex>`): what it writes in jobs.locked_by for all the pool's jobs.
  worker_id text primary key,
  -- For people reading the table: which machine and process.
  host text not null,
  pid integer not null,
  started_at timestamptz not null default now(),
  last_seen timestamptz not null default now()
);
create index worker_heartbeats_last_seen_idx on worker_heartbeats (last_seen);

-- An image's claim is now a short lease (claimed_until) that its holder renews while it works; the
-- claim id fences the save, so a holder whose lease lapsed and was taken over cannot save over it.
alter table image_processing add column claim_id uuid;
-- Who holds the claim (host/pid) and since when, for people and tests; not used to decide anything.
alter table image_processing add column claimed_by text check (length(claimed_by) <= 200);
alter table image_processing add column claimed_at timestamptz;
