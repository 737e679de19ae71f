create table admins (
  id integer generated always as identity primary key,
  email text not null unique,
  password_hash text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table products (
  id uuid primary key,
  name text not null check (length(name) between 1 and 200),
  price_cents integer not null check (price_cents >= 0),
  description text not null default '' check (length(description) <= 5000),
  created_by integer references admins (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- The product list's only order: newest first, id breaks ties so pages are stable.
create index products_created_at_id_idx on products (created_at desc, id desc);

create table product_images (
  id uuid primary key,
  product_id uuid not null references products (id) on delete cascade,
  -- The object key in the bucket; URLs are derived from it (presigned GET or PUBLIC_BASE_URL).
  key text not null unique,
  content_type text not null check (content_type in ('image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif')),
  byte_size bigint not null check (byte_size > 0),
  width integer not null check (width > 0),
  height integer not null check (height > 0),
  position integer not null check (position >= 0),
  alt_text text not null default '' check (length(alt_text) <= 500),
  created_at timestamptz not null default now(),
  unique (product_id, position) deferrable initially immediate
);
