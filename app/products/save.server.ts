import { randomUUID } from 'node:crypto'
import { applyProductEdit, isEditApplied, type ProductEdit } from '~/models/product-edits.server'
import { insertProduct } from '~/models/product.server'
import { type PlacedImage } from '~/models/product-images.server'
import { abandonCopies, recordPendingCopies } from '~/models/storage-deletion.server'
import type { StagedImage } from '~/uploads/staged-image.server'
import { getSql } from '~/utils/db.server'
import type { ProductFields } from '~/utils/product-schema'
import { copyObject, isNotFound, newProductImageKey, ObjectChangedError } from '~/utils/storage.server'

/** A staged image that is no longer in the bucket (expired, or already attached elsewhere). */
export class MissingUploadError extends Error {
  constructor(readonly image: StagedImage) {
    super(`${image.fileName} is no longer uploaded; please add it again.`)
  }
}

/** A staged image whose bytes changed after they were checked: it is not what the admin saw. */
export class ChangedUploadError extends Error {
  constructor(readonly image: StagedImage) {
    super(`${image.fileName} changed in storage after it was uploaded and checked; add it again.`)
  }
}

/**
 * Creates a product with its images. Each staged object is copied (inside S3) to the product's own
 * prefix first, so no row ever names an object that is not there; then one transaction inserts the
 * product and its rows (insertProduct). Copies a failed or losing save made are deleted by the worker.
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
  const { placed, copied } = await copyIntoProduct(productId, images)
  try {
    const result = await getSql().begin((tx) =>
      insertProduct(tx, { productId, adminId, fields, idempotencyKey, placed }),
    )
    // Another submit of this form won: these copies are ours alone.
    if (!result.created) await abandonCopies(copied)
    return result
  } catch (error) {
    await abandonCopies(copied).catch(() => {})
    throw error
  }
}

/**
 * Saves one edit form: new staged images are copied to the product's prefix first, then one
 * transaction applies the whole form (applyProductEdit). A form already saved is `'already-applied'`.
 */
export async function updateProduct({
  added,
  ...edit
}: ProductEdit & { added: StagedImage[] }): Promise<'updated' | 'already-applied'> {
  const sql = getSql()
  if (await isEditApplied(sql, edit)) return 'already-applied'
  const { placed, copied } = await copyIntoProduct(edit.productId, added)
  let outcome: 'updated' | 'already-applied'
  try {
    outcome = await sql.begin((tx) => applyProductEdit(tx, { ...edit, placed }))
  } catch (error) {
    await abandonCopies(copied).catch(() => {})
    throw error
  }
  if (outcome === 'already-applied') await abandonCopies(copied)
  return outcome
}

/**
 * Copies staged objects (inside S3) to the product's own prefix, so that no row ever names an object
 * that is not there and cleanup of staging can never touch a product's image. Each copy is recorded
 * before it is made (recordPendingCopies): if the save fails, or this process dies before it commits,
 * the worker deletes it. Each copy is conditional on the ETag that was checked and takes the sniffed type.
 */
async function copyIntoProduct(productId: string, images: StagedImage[]) {
  const placed: PlacedImage[] = images.map((image) => ({
    image,
    id: randomUUID(),
    key: newProductImageKey(productId, image.contentType),
  }))
  const copied = placed.map((p) => p.key)
  await recordPendingCopies(copied)
  const results = await Promise.allSettled(
    placed.map(({ image, key }) =>
      copyObject({ from: image.key, to: key, ifMatch: image.etag, contentType: image.contentType }).catch(
        (error: unknown) => {
          if (isNotFound(error)) throw new MissingUploadError(image)
          if (error instanceof ObjectChangedError) throw new ChangedUploadError(image)
          throw error
        },
      ),
    ),
  )
  const failed = results.find((result) => result.status === 'rejected')
  if (failed) {
    await abandonCopies(copied)
    throw failed.reason
  }
  return { placed, copied }
}
