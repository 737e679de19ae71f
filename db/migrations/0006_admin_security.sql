-- Where an admin comes from: 'env' is the one ADMIN_EMAIL names (made at start), 'command' the ones
-- `npm run admin -- add` made. An 'env' admin that ADMIN_EMAIL no longer names is disabled at start.
alter table admins
  add column source text not null default 'env' check (source in ('env', 'command')),
  add column disabled_at timestamptz;

-- Server-side sessions: the cookie holds a random token, the table its SHA-256, so a copied cookie
-- stops working the moment its row goes (sign-out, password change, removal) and a database leak holds
-- no usable token. expires_at is the hard maximum age, whatever the cookie says.
create table admin_sessions (
  id text primary key,
  admin_id integer not null references admins (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);

create index admin_sessions_admin_id_idx on admin_sessions (admin_id);
create index admin_sessions_expires_at_idx on admin_sessions (expires_at);

-- rate-limiter-flexible's PostgreSQL store (its own table layout), shared by every app server: failed
-- sign-ins per account and per client address, and the waits they earned.
create table login_limits (
  key varchar(255) primary key,
  points integer not null default 0,
  expire bigint
);
