import type { TransactionSql } from 'postgres'
import { queueImageProcessing } from '~/jobs/queue.server'
import type { StagedImage } from '~/uploads/staged-image.server'
import { moveProcessingSources } from './image-processing.server'
import { keepCopies, queueDeletions } from './storage-deletion.server'

/** An upload that another product already has (or that the server never issued). */
export class AlreadyAttachedError extends Error {
  constructor(readonly image: StagedImage) {
    super(`${image.fileName} is already attached to another product; add the file again to use it here too.`)
  }
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
export async function addImages(
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
