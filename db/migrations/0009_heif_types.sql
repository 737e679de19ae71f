-- HEIC and HEIF, the photos phones take, join the accepted types (app/uploads/image-types.ts; a test
-- holds this list to that table).
alter table product_images drop constraint product_images_content_type_check;
alter table product_images add constraint product_images_content_type_check check (
  content_type in ('image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/heic', 'image/heif')
);
