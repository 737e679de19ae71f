-- Every saved edit bumps the version; an edit form carries the version it was opened at, so a save on top
-- of someone else's change is refused instead of silently undoing it.
alter table products add column version integer not null default 1;

-- The edit forms already applied, by their idempotency key: a double click or a resubmit of a saved edit
-- lands on the product instead of being applied twice (or refused as stale).
create table product_edits (
  idempotency_key uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  admin_id integer references admins (id) on delete set null,
  created_at timestamptz not null default now()
);

create index product_edits_product_id_idx on product_edits (product_id);

