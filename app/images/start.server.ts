import { queueImageProcessing } from '~/jobs/queue.server'
import { ensureProcessing, getProcessing } from '~/models/image-processing.server'
import { withDeadline } from '~/utils/availability.server'
import { getSql } from '~/utils/db.server'
import { errorMessage } from '~/utils/errors'
import type { StagedImage } from '~/uploads/staged-image.server'
import type { ImageView } from './variants'
import { toView } from './view.server'

/**
 * Starts making the variants of checked uploads now, before the form is saved (a job per image,
 * queued once however often this is called). Returns each one's processing id.
 */
export async function startProcessing(images: readonly Pick<StagedImage, 'key' | 'etag'>[]) {
  if (images.length === 0) return []
  return getSql().begin(async (tx) => {
    const started = await ensureProcessing(
      tx,
      images.map((image) => ({ sourceKey: image.key, etag: image.etag })),
    )
    await queueImageProcessing(
      tx,
      started.filter((p) => p.pending).map((p) => p.id),
    )
    return started.map((p) => p.id)
  })
}

const PREVIEW_DEADLINE_MS = 2_000

/**
 * How staged images kept by a form look: their variants if made already, else their placeholder
 * (processing starts now if it had not). Null for each when the database cannot say.
 */
export async function stagedImageViews(images: readonly StagedImage[]): Promise<(ImageView | null)[]> {
  const none = () => images.map(() => null)
  try {
    // A form coming back because the database stalls must not wait on it again for its previews.
    return await withDeadline(
      (async () => {
        const ids = await startProcessing(images)
        const processing = await getProcessing(ids)
        return Promise.all(
          images.map((image, i) => {
            const found = processing.get(ids[i]!)
            return found ? toView(found, image) : null
          }),
        )
      })(),
      PREVIEW_DEADLINE_MS,
      none,
    )
  } catch (error) {
    console.warn(`[images] previews of kept uploads unavailable: ${errorMessage(error)}`)
    return none()
  }
}
