-- Every staging key the server has issued, with who asked and what they declared. Sign requests for
-- parts, listing, completion and abort must name a key issued to the same admin.
create table uploads (
  key text primary key,
  admin_id integer not null references admins (id) on delete cascade,
  file_name text not null,
  content_type text not null,
  declared_size bigint not null check (declared_size >= 0),
  multipart boolean not null,
  created_at timestamptz not null default now()
);

create index uploads_admin_id_created_at_idx on uploads (admin_id, created_at);
