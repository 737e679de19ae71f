import type { TransactionSql } from 'postgres'
import { wakeStorageDeletions } from '~/jobs/queue.server'
import { getSql, type Sql } from '~/utils/db.server'
import type { ProductFields } from '~/utils/product-schema'
import { forgetImages } from './image-processing.server'
import { addImages, type PlacedImage } from './product-images.server'

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

/** One submitted edit form: the version it was opened at, its key, and what it changes. */
export interface ProductEdit {
  productId: string
  adminId: number
  version: number
  idempotencyKey: string
  fields: ProductFields
  /** The kept images in their new order, with their alt texts. */
  images: ImageEdit[]
  /** Ids of the images removed. */
  removed: string[]
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
  }: ProductEdit & { placed: PlacedImage[] },
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
