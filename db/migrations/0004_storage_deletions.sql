-- Objects to delete from the bucket, recorded in the transaction that stops using them and removed only
-- once S3 confirms, so a delete that fails (S3 down) is retried rather than forgotten.
create table storage_deletions (
  key text primary key,
  requested_at timestamptz not null default now(),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text
);

create index storage_deletions_next_attempt_at_idx on storage_deletions (next_attempt_at);
