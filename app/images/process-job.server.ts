import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import pLimit from 'p-limit'
import {
  CLAIM_SECONDS,
  claimProcessing,
  failProcessing,
  processingSource,
  releaseProcessing,
  renewClaim,
  saveVariants,
  type Claim,
} from '~/models/image-processing.server'
import {
  abandonCopies,
  keepCopies,
  queueDeletions,
  recordPendingCopies,
} from '~/models/storage-deletion.server'
import { wakeStorageDeletions } from '~/jobs/queue.server'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { ObjectChangedError, ObjectTooLargeError } from '~/utils/storage.server'
import { makeVariants, UnprocessableImageError } from './process.server'
import { putVariant, readOriginal, variantKey } from './storage.server'
import { VARIANT_VERSION } from './variants'

/** Another worker holds this image; the job is retried later and then finds it done. */
export class ImageBusyError extends Error {
  override name = 'ImageBusyError'
}

let limit: ReturnType<typeof pLimit> | undefined

/**
 * Images this process decodes at once (IMAGE_PROCESSING_CONCURRENCY): a batch of 20 photos waits its
 * turn instead of holding 20 decoded images in memory.
 */
function processingSlot() {
  limit ??= pLimit(getEnv().IMAGE_PROCESSING_CONCURRENCY)
  return limit
}

export type ProcessOutcome = 'processed' | 'failed' | 'done'

/**
 * Makes the variants of one image: claims it (so no two workers make the same image's), reads its
 * source (only the checked bytes), makes the variants, stores each object, then records them in one
 * transaction that also queues the previous set's objects for deletion. Bad image data is a failure
 * for good, recorded with its reason; anything else (S3 or PostgreSQL unavailable) throws, so the
 * queue retries, and on the last attempt (`final`) is recorded as the failure too.
 */
export async function processImage(id: string, { final = false } = {}): Promise<ProcessOutcome> {
  const claim = await claimProcessing({
    id,
    version: VARIANT_VERSION,
    holder: `${hostname()}/${process.pid}`,
  })
  if (claim === 'done') return 'done'
  if (claim === 'busy') throw new ImageBusyError(`image ${id} is being processed by another worker`)
  const { claimId } = claim
  const renewal = renewWhileWorking(id, claimId)
  try {
    return await processingSlot()(() => makeAndStore(id, claim))
  } catch (error) {
    if (error instanceof UnprocessableImageError) {
      console.warn(`[images] image ${id}: ${error.message} (${error.detail})`)
      await failProcessing({ id, claimId, failure: error.message })
      return 'failed'
    }
    if (final) {
      console.error(`[images] image ${id}: the last attempt failed`, error)
      await failProcessing({
        id,
        claimId,
        failure:
          'It could not be prepared: storage or the database did not answer after several tries. Remove it and add it again.',
      })
      return 'failed'
    }
    await releaseProcessing({ id, claimId }).catch(() => {})
    throw error
  } finally {
    clearInterval(renewal)
  }
}

/**
 * Keeps the claim alive while this process works on the image (waiting for a slot included); if the
 * process dies, the claim lapses within CLAIM_SECONDS and another worker may take the image.
 */
function renewWhileWorking(id: string, claimId: string) {
  let warned = false
  const timer = setInterval(
    () => {
      renewClaim({ id, claimId }).then(
        (held) => {
          if (held || warned) return
          warned = true
          console.warn(
            `[images] image ${id}: the claim lapsed and another worker took it; this run's work will be dropped`,
          )
        },
        (error: Error) => console.warn(`[images] image ${id}: could not renew the claim: ${error.message}`),
      )
    },
    (CLAIM_SECONDS * 1000) / 3,
  )
  timer.unref()
  return timer
}

async function makeAndStore(id: string, source: Claim) {
  const env = getEnv()
  let original = await read(source, env.MAX_IMAGE_BYTES)
  if (!original) {
    // Saved meanwhile: the source moved from staging to the product's copy.
    const moved = await processingSource(id)
    if (!moved) return 'done'
    if (moved.sourceKey !== source.sourceKey) original = await read(moved, env.MAX_IMAGE_BYTES)
    if (!original) throw new Error(`the original ${moved.sourceKey} is not in storage`)
  }
  const made = await makeVariants(original, { maxPixels: env.MAX_IMAGE_PIXELS })
  original = null

  const generation = randomBytes(6).toString('hex')
  const variants = made.variants.map((v) => ({ ...v, key: variantKey(id, generation, v.width, v.format) }))
  const keys = variants.map((v) => v.key)
  // Recorded first: if this process dies before the save commits, the worker deletes them.
  await recordPendingCopies(keys)
  try {
    await Promise.all(variants.map((v) => putVariant(v.key, v.data, v.format)))
    const saved = await getSql().begin(async (tx) => {
      const result = await saveVariants(tx, {
        id,
        claimId: source.claimId,
        version: VARIANT_VERSION,
        variants: variants.map(({ format, width, height, data, key }) => ({
          format,
          width,
          height,
          byteSize: data.length,
          key,
        })),
        placeholder: made.placeholder,
        color: made.color,
      })
      if (!result) return false
      await keepCopies(tx, keys)
      if (result.replaced.length > 0) {
        await queueDeletions(tx, result.replaced)
        await wakeStorageDeletions(tx)
      }
      return true
    })
    if (!saved) await abandonCopies(keys)
    return saved ? 'processed' : 'done'
  } catch (error) {
    await abandonCopies(keys).catch(() => {})
    throw error
  }
}

async function read(source: { sourceKey: string; etag: string | null }, maxBytes: number) {
  try {
    return await readOriginal(source.sourceKey, { ifMatch: source.etag, maxBytes })
  } catch (error) {
    if (error instanceof ObjectChangedError) {
      throw new UnprocessableImageError('The uploaded file changed after it was checked; add it again.')
    }
    if (error instanceof ObjectTooLargeError) {
      throw new UnprocessableImageError('The file is larger than the limit for one image.')
    }
    throw error
  }
}
