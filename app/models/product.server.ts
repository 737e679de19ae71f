import type { TransactionSql } from 'postgres'
import { getSql } from '~/utils/db.server'
import { isUuid, type ProductFields } from '~/utils/product-schema'
import { UUID_PATTERN } from '~/uploads/image-types'
import { wakeStorageDeletions } from '~/jobs/queue.server'
import { forgetImages } from './image-processing.server'
import { addImages, type PlacedImage } from './product-images.server'

export interface ProductImage {
  id: string
  key: string
  contentType: string
  byteSize: number
  width: number
  height: number
  position: number
  altText: string
  /** Its variants, placeholder and processing state: app/models/image-processing.server.ts. */
  processingId: string
  /** The admin's file name (null for images saved before it was kept). */
  fileName: string | null
}

export interface Product {
  id: string
  name: string
  priceCents: number
  description: string
  createdAt: Date
  /** Bumped by every saved edit. */
  version: number
  images: ProductImage[]
}

export interface ProductSummary {
  id: string
  name: string
  priceCents: number
  createdAt: Date
  image: Pick<ProductImage, 'processingId' | 'width' | 'height' | 'altText'> | null
}

/** The product an admin's form with this idempotency key created, if any. */
export async function findProductByIdempotencyKey({
  idempotencyKey,
  adminId,
}: {
  idempotencyKey: string
  adminId: number
}): Promise<string | null> {
  const [row] = await getSql()<{ id: string }[]>`
    select id from products where idempotency_key = ${idempotencyKey} and created_by = ${adminId}`
  return row?.id ?? null
}

/**
 * The transaction of a new product (app/products/save.server.ts copies its images first): the product,
 * its image rows (the copies kept), the uploads attached and the staging objects queued for deletion.
 * The form's idempotency key makes concurrent or repeated submits land on one product (`created` is
 * false for the ones that lost), and each upload is attached to one product only.
 */
export async function insertProduct(
  tx: TransactionSql,
  {
    productId,
    adminId,
    fields,
    idempotencyKey,
    placed,
  }: {
    productId: string
    adminId: number
    fields: ProductFields
    idempotencyKey: string
    placed: PlacedImage[]
  },
): Promise<{ productId: string; created: boolean }> {
  // A second submit of the same form waits here for the first to commit, then finds its product.
  const [inserted] = await tx<{ id: string }[]>`
    insert into products (id, name, price_cents, description, created_by, idempotency_key)
    values (${productId}, ${fields.name}, ${fields.price}, ${fields.description}, ${adminId}, ${idempotencyKey})
    on conflict (idempotency_key) do nothing
    returning id`
  if (!inserted) {
    const [existing] = await tx<{ id: string; createdBy: number }[]>`
      select id, created_by as "createdBy" from products where idempotency_key = ${idempotencyKey}`
    if (existing?.createdBy !== adminId) throw new Error('An idempotency key was reused by another admin')
    return { productId: existing.id, created: false }
  }
  await addImages(tx, { productId, adminId, placed, firstPosition: 0 })
  if (placed.length > 0) await wakeStorageDeletions(tx)
  return { productId, created: true }
}

/**
 * Deletes a product and its image rows in one transaction that also records the product's objects for
 * deletion; the objects are removed after the commit and, if S3 does not answer, later, until it
 * confirms (processStorageDeletions). Returns false when there was no such product.
 */
export async function deleteProduct({ productId }: { productId: string }): Promise<boolean> {
  return getSql().begin(async (tx) => {
    const images = await tx<{ key: string; processingId: string }[]>`
      select key, processing_id as "processingId" from product_images where product_id = ${productId}`
    const result = await tx`delete from products where id = ${productId}`
    if (result.count === 0) return false
    await forgetImages(tx, images)
    await wakeStorageDeletions(tx)
    return true
  })
}

/** The product with this id, or null (for any id that is not a UUID too). */
export async function getProduct({ productId }: { productId: string }): Promise<Product | null> {
  if (!isUuid(productId)) return null
  const sql = getSql()
  const [product] = await sql<Omit<Product, 'images'>[]>`
    select id, name, price_cents as "priceCents", description, created_at as "createdAt", version
    from products where id = ${productId}`
  if (!product) return null
  const images = await sql<(Omit<ProductImage, 'byteSize'> & { byteSize: string })[]>`
    select id, key, content_type as "contentType", byte_size as "byteSize", width, height, position,
           alt_text as "altText", processing_id as "processingId", file_name as "fileName"
    from product_images where product_id = ${productId}
    order by position`
  return { ...product, images: images.map((image) => ({ ...image, byteSize: Number(image.byteSize) })) }
}

export interface ProductPage {
  products: ProductSummary[]
  /** Pass as `after` for the next page; null on the last page. */
  nextCursor: string | null
}

/** Products newest first, `limit` a page, keyset-paginated on (created_at, id) so pages never shift. */
export async function listProducts({
  limit,
  after,
}: {
  limit: number
  after?: string | null
}): Promise<ProductPage> {
  const sql = getSql()
  const cursor = after ? decodeCursor(after) : null
  const rows = await sql<
    (Omit<ProductSummary, 'image'> & {
      micros: string
      processingId: string | null
      width: number
      height: number
      altText: string
    })[]
  >`
    select p.id, p.name, p.price_cents as "priceCents", p.created_at as "createdAt",
           (extract(epoch from p.created_at) * 1000000)::bigint as micros,
           i.processing_id as "processingId", i.width, i.height, i.alt_text as "altText"
    from products p
    left join lateral (
      select processing_id, width, height, alt_text from product_images
      where product_id = p.id order by position limit 1
    ) i on true
    ${
      cursor
        ? sql`where (p.created_at, p.id) < ('epoch'::timestamptz + ${cursor.micros}::bigint * interval '1 microsecond', ${cursor.id}::uuid)`
        : sql``
    }
    order by p.created_at desc, p.id desc
    limit ${limit + 1}`
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    products: page.map(({ processingId, width, height, altText, micros: _micros, ...product }) => ({
      ...product,
      image: processingId ? { processingId, width, height, altText } : null,
    })),
    nextCursor: rows.length > limit && last ? `${last.micros}_${last.id}` : null,
  }
}

const CURSOR = new RegExp(`^(\\d{1,18})_(${UUID_PATTERN})$`)

// Microseconds since the epoch, as PostgreSQL stores them: a JavaScript Date would round to milliseconds.
function decodeCursor(cursor: string): { micros: string; id: string } | null {
  const match = CURSOR.exec(cursor)
  return match ? { micros: match[1]!, id: match[2]! } : null
}
