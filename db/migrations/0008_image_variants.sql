-- Processed images. Every checked image (a staged upload, later a product's original) gets one
-- image_processing row: the right-sized, metadata-free variants made from it (image_variants), its
-- placeholder and dominant colour, and how the making went. Pages show variants only, never originals.
create table image_processing (
  id uuid primary key default gen_random_uuid(),
  -- The object the variants are made from: the staging key, then the product's original once attached.
  source_key text not null unique,
  -- The ETag that was checked; the source is read only if it still has it (null: not known).
  source_etag text,
  status text not null default 'pending' check (status in ('pending', 'ready', 'failed')),
  -- Why processing failed for good, in words an admin can act on.
  failure text check (length(failure) <= 500),
  -- The variant set (widths, formats, quality) the current variants were made with; see app/images/variants.ts.
  variant_version text,
  -- A ThumbHash of the image (base64, a few dozen bytes) and its dominant colour, painted before any bytes arrive.
  placeholder text check (length(placeholder) <= 100),
  color text check (color ~ '^#[0-9a-f]{6}$'),
  -- A worker is making this image's variants until then; another leaves it alone.
  claimed_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (status <> 'failed' or failure is not null)
);

-- Written only after each variant's object exists; objects are immutable (a new key for new bytes).
create table image_variants (
  processing_id uuid not null references image_processing (id) on delete cascade,
  format text not null check (format in ('webp', 'avif')),
  width integer not null check (width > 0),
  height integer not null check (height > 0),
  byte_size integer not null check (byte_size > 0),
  key text not null unique,
  primary key (processing_id, format, width)
);

alter table product_images add column processing_id uuid unique references image_processing (id);
-- The name the admin's file had, for downloading the original.
alter table product_images add column file_name text check (length(file_name) <= 255);

-- Images saved before variants existed: npm run images:reprocess (or the worker) makes theirs.
insert into image_processing (source_key) select key from product_images;
update product_images i set processing_id = p.id from image_processing p where p.source_key = i.key;
alter table product_images alter column processing_id set not null;

-- The reprocess command walks images in this order; the cleanup finds processing never attached.
create index image_processing_created_at_idx on image_processing (created_at);
