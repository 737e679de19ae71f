import type { TransactionSql } from 'postgres'
import { getSql, type Sql } from '~/utils/db.server'
import { isUuid, type ProductFields } from '~/utils/product-schema'
import type { StagedImage } from '~/uploads/staged-image.server'
import { UUID_PATTERN } from '~/uploads/image-types'
import { queueImageProcessing, wakeStorageDeletions } from '~/jobs/queue.server'
import { forgetImages, moveProcessingSources } from './image-processing.server'
import { keepCopies, queueDeletions } from './storage-deletion.server'

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

/** An upload that another product already has (or that the server never issued). */
export class AlreadyAttachedError extends Error {
  constructor(readonly image: StagedImage) {
    super(`${image.fileName} is already attached to another product; add the file again to use it here too.`)
  }
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

/** Someone saved the product after this edit form was opened (its version moved on). */
export class StaleProductError extends Error {
  constructor() {
    super(
      'Someone saved this product after you opened this page. The images below are as they are now and your text is kept: check both, then save again.',
    )
  }
}

export class ProductNotFoundError extends Error {
  constructor() {
    super('This product no longer exists; it was deleted after you opened this page.')
  }
}

/** One of the product's images as the edit form submits it, in the order the admin left them. */
export interface ImageEdit {
  id: string
  altText: string
}

/**
 * The transaction of one edit form (app/products/save.server.ts copies new images first): the fields,
 * the images' order and alt texts, the images removed (their objects queued for deletion, deleted after
 * the commit) and the new ones appended after the kept ones. The form's `version` must still be the
 * product's, else StaleProductError; its idempotency key makes a repeated submit of an edit that was
 * already saved a no-op (`'already-applied'`).
 */
export async function applyProductEdit(
  tx: TransactionSql,
  {
    productId,
    adminId,
    version,
    idempotencyKey,
    fields,
    images,
    removed,
    placed,
  }: {
    productId: string
    adminId: number
    version: number
    idempotencyKey: string
    fields: ProductFields
    images: ImageEdit[]
    removed: string[]
    placed: PlacedImage[]
  },
): Promise<'updated' | 'already-applied'> {
  // Serializes saves of one product; a second submit of this form waits here, then sees the first.
  const [product] = await tx<{ version: number }[]>`
    select version from products where id = ${productId} for update`
  if (!product) throw new ProductNotFoundError()
  if (await isEditApplied(tx, { idempotencyKey, productId })) return 'already-applied'
  if (product.version !== version) throw new StaleProductError()

  // The form must name each current image exactly once, kept or removed.
  const current = await tx<{ id: string }[]>`select id from product_images where product_id = ${productId}`
  const currentIds = new Set(current.map((row) => row.id))
  const submitted = [...images.map((image) => image.id), ...removed]
  if (
    submitted.length !== currentIds.size ||
    new Set(submitted).size !== submitted.length ||
    !submitted.every((id) => currentIds.has(id))
  )
    throw new StaleProductError()

  if (removed.length > 0) {
    const gone = await tx<{ key: string; processingId: string }[]>`
      delete from product_images where product_id = ${productId} and id in ${tx(removed)}
      returning key, processing_id as "processingId"`
    await forgetImages(tx, gone)
  }
  // Positions are unique per product; checked at commit so the images can swap places.
  await tx`set constraints product_images_product_id_position_key deferred`
  if (images.length > 0) {
    await tx`
      update product_images as i set position = v.position::integer, alt_text = v.alt_text
      from (values ${tx(images.map((image, position) => [image.id, position, image.altText]))})
        as v (id, position, alt_text)
      where i.id = v.id::uuid and i.product_id = ${productId}`
  }
  await addImages(tx, { productId, adminId, placed, firstPosition: images.length })
  if (removed.length > 0 || placed.length > 0) await wakeStorageDeletions(tx)
  await tx`
    update products
    set name = ${fields.name}, price_cents = ${fields.price}, description = ${fields.description},
        version = version + 1, updated_at = now()
    where id = ${productId}`
  await tx`
    insert into product_edits (idempotency_key, product_id, admin_id)
    values (${idempotencyKey}, ${productId}, ${adminId})`
  return 'updated' as const
}

/**
 * Forgets the idempotency keys of edits saved more than `olderThanMs` ago: they only matter while the
 * same form might be submitted again (a double click, a retry), and a form that old is refused as stale
 * by its version anyway. Returns how many were forgotten.
 */
export async function forgetAppliedEdits({
  sql = getSql(),
  olderThanMs,
}: {
  sql?: Sql
  olderThanMs: number
}) {
  const result = await sql`
    delete from product_edits where created_at < now() - ${olderThanMs} * interval '1 millisecond'`
  return result.count
}

/** Whether the edit form with this idempotency key was saved to this product already. */
export async function isEditApplied(
  sql: TransactionSql | Sql,
  { idempotencyKey, productId }: { idempotencyKey: string; productId: string },
) {
  const [row] = await sql<{ productId: string }[]>`
    select product_id as "productId" from product_edits where idempotency_key = ${idempotencyKey}`
  return row?.productId === productId
}

/** A staged image copied to its product's key (app/products/save.server.ts), with its row's id. */
export interface PlacedImage {
  image: StagedImage
  id: string
  key: string
}

/** Marks the admin's uploads as attached to this product; an upload is attached once, ever. */
async function attachUploads(
  tx: TransactionSql,
  { productId, adminId, images }: { productId: string; adminId: number; images: readonly StagedImage[] },
) {
  const attached = await tx<{ key: string }[]>`
    update uploads set attached_to = ${productId}
    where admin_id = ${adminId} and attached_to is null and key in ${tx(images.map((image) => image.key))}
    returning key`
  if (attached.length !== images.length) {
    const done = new Set(attached.map((row) => row.key))
    throw new AlreadyAttachedError(images.find((image) => !done.has(image.key))!)
  }
}

/**
 * Adds placed images to a product: attaches their uploads, inserts their rows from `firstPosition` on,
 * keeps their copies and queues their staging objects for deletion once the transaction commits.
 */
async function addImages(
  tx: TransactionSql,
  {
    productId,
    adminId,
    placed,
    firstPosition,
  }: { productId: string; adminId: number; placed: PlacedImage[]; firstPosition: number },
) {
  if (placed.length === 0) return
  const staged = placed.map((p) => p.image)
  await attachUploads(tx, { productId, adminId, images: staged })
  await insertImages(tx, productId, placed, firstPosition)
  await keepCopies(
    tx,
    placed.map((p) => p.key),
  )
  await queueDeletions(
    tx,
    staged.map((image) => image.key),
  )
}

/**
 * Inserts the product's rows for placed images, from `firstPosition` on. Each takes over its upload's
 * processing (its variants may be made already: that started when the upload was checked); the ones
 * still to make are queued, to run once the transaction commits.
 */
async function insertImages(
  tx: TransactionSql,
  productId: string,
  placed: PlacedImage[],
  firstPosition: number,
) {
  const processing = await moveProcessingSources(
    tx,
    placed.map(({ image, key }) => ({ stagingKey: image.key, originalKey: key, etag: image.etag })),
  )
  const rows = placed.map(({ image, id, key }, i) => ({
    id,
    product_id: productId,
    key,
    content_type: image.contentType,
    byte_size: image.byteSize,
    width: image.width,
    height: image.height,
    position: firstPosition + i,
    processing_id: processing[i]!.id,
    file_name: image.fileName,
  }))
  await tx`insert into product_images ${tx(rows)}`
  await queueImageProcessing(
    tx,
    processing.filter((p) => p.pending).map((p) => p.id),
  )
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
