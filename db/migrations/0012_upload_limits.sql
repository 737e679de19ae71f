-- rate-limiter-flexible's PostgreSQL store (its own table layout), shared by every app server: new
-- uploads signed per admin and per client address (app/uploads/upload-limits.server.ts).
create table upload_limits (
  key varchar(255) primary key,
  points integer not null default 0,
  expire bigint
);

-- The cap on an admin's open uploads counts their unattached ones.
create index uploads_admin_id_open_idx on uploads (admin_id, created_at) where attached_to is null;
