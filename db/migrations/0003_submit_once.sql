-- One product per submitted form: the form's idempotency key, issued by the server with the page.
alter table products add column idempotency_key uuid unique;

-- The product an upload was attached to; an upload is attached once, in the transaction that creates it.
alter table uploads add column attached_to uuid references products (id) on delete set null;
create index uploads_unattached_created_at_idx on uploads (created_at) where attached_to is null;
