import { randomUUID } from 'node:crypto'
import { getSql } from '~/utils/db.server'
import type { ProductFields } from '~/utils/product-schema'
import type { StagedImage } from '~/utils/staged-image.server'
import { copyObject, deleteObjects, isNotFound, newProductImageKey } from '~/utils/storage.server'
import { processStorageDeletions } from './storage-deletion.server'

export interface ProductImage {
  id: string
  key: string
  contentType: string
  byteSize: number
  width: number
  height: number
  position: number
  altText: string
}

export interface Product {
  id: string
  name: string
  priceCents: number
  description: string
  createdAt: Date
  images: ProductImage[]
}

export interface ProductSummary {
  id: string
  name: string
  priceCents: number
  createdAt: Date
  image: Pick<ProductImage, 'key' | 'width' | 'height' | 'altText'> | null
}

/** A staged image that is no longer in the bucket (expired, or already attached elsewhere). */
export class MissingUploadError extends Error {
  constructor(readonly image: StagedImage) {
    super(`${image.fileName} is no longer uploaded; please add it again.`)
  }
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
 * Creates a product with its images in one transaction. Each staged object is copied (inside S3) to the
 * product's own prefix before the transaction, so no row ever names an object that is not there; the
 * staging copies are deleted after the commit, and the bucket lifecycle catches any that survive.
 * The form's idempotency key makes concurrent or repeated submits land on one product (`created` is
 * false for the ones that lost), and each upload is attached to one product only.
 */
export async function createProduct({
  adminId,
  fields,
  images,
  idempotencyKey,
}: {
  adminId: number
  fields: ProductFields
  images: StagedImage[]
  idempotencyKey: string
}): Promise<{ productId: string; created: boolean }> {
  const productId = randomUUID()
  const placed = images.map((image) => ({
    image,
    id: randomUUID(),
    key: newProductImageKey(productId, image.contentType),
  }))
  const copied: string[] = []
  try {
    await Promise.all(
      placed.map(async ({ image, key }) => {
        await copyObject(image.key, key).catch((error: unknown) => {
          throw isNotFound(error) ? new MissingUploadError(image) : error
        })
        copied.push(key)
      }),
    )
    const result = await getSql().begin(async (tx) => {
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
      if (placed.length === 0) return { productId, created: true }
      const attached = await tx<{ key: string }[]>`
        update uploads set attached_to = ${productId}
        where admin_id = ${adminId} and attached_to is null and key in ${tx(images.map((image) => image.key))}
        returning key`
      if (attached.length !== images.length) {
        const done = new Set(attached.map((row) => row.key))
        throw new AlreadyAttachedError(images.find((image) => !done.has(image.key))!)
      }
      await tx`
        insert into product_images ${tx(
          placed.map(({ image, id, key }, position) => ({
            id,
            product_id: productId,
            key,
            content_type: image.contentType,
            byte_size: image.byteSize,
            width: image.width,
            height: image.height,
            position,
          })),
          'id',
          'product_id',
          'key',
          'content_type',
          'byte_size',
          'width',
          'height',
          'position',
        )}`
      return { productId, created: true }
    })
    if (!result.created) {
      // Another submit of this form won; these copies are ours alone.
      await deleteObjects(copied)
      return result
    }
  } catch (error) {
    await deleteObjects(copied).catch((cleanupError: unknown) =>
      console.error(
        `Could not remove copies of a product that was not created: ${copied.join(', ')}`,
        cleanupError,
      ),
    )
    throw error
  }
  await deleteObjects(images.map((image) => image.key)).catch((error: unknown) =>
    console.error('Could not delete attached staging objects; the lifecycle rule will expire them', error),
  )
  return { productId, created: true }
}

/**
 * Deletes a product and its image rows in one transaction that also records the product's objects for
 * deletion; the objects are removed after the commit and, if S3 does not answer, later, until it
 * confirms (processStorageDeletions). Returns false when there was no such product.
 */
export async function deleteProduct({ productId }: { productId: string }): Promise<boolean> {
  const deleted = await getSql().begin(async (tx) => {
    await tx`
      insert into storage_deletions (key)
      select key from product_images where product_id = ${productId}
      on conflict (key) do nothing`
    const result = await tx`delete from products where id = ${productId}`
    return result.count > 0
  })
  if (deleted) {
    await processStorageDeletions().catch((error: unknown) =>
      console.error('Deleting images from storage failed; they stay queued and are retried', error),
    )
  }
  return deleted
}

export async function getProduct({ productId }: { productId: string }): Promise<Product | null> {
  const sql = getSql()
  const [product] = await sql<Omit<Product, 'images'>[]>`
    select id, name, price_cents as "priceCents", description, created_at as "createdAt"
    from products where id = ${productId}`
  if (!product) return null
  const images = await sql<(Omit<ProductImage, 'byteSize'> & { byteSize: string })[]>`
    select id, key, content_type as "contentType", byte_size as "byteSize", width, height, position,
           alt_text as "altText"
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
      imageKey: string | null
      width: number
      height: number
      altText: string
    })[]
  >`
    select p.id, p.name, p.price_cents as "priceCents", p.created_at as "createdAt",
           (extract(epoch from p.created_at) * 1000000)::bigint as micros,
           i.key as "imageKey", i.width, i.height, i.alt_text as "altText"
    from products p
    left join lateral (
      select key, width, height, alt_text from product_images
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
    products: page.map(({ imageKey, width, height, altText, micros: _micros, ...product }) => ({
      ...product,
      image: imageKey ? { key: imageKey, width, height, altText } : null,
    })),
    nextCursor: rows.length > limit && last ? `${last.micros}_${last.id}` : null,
  }
}

// Microseconds since the epoch, as PostgreSQL stores them: a JavaScript Date would round to milliseconds.
function decodeCursor(cursor: string): { micros: string; id: string } | null {
  const match = /^(\d{1,18})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(cursor)
  return match ? { micros: match[1]!, id: match[2]! } : null
}
