import type { Admin } from '~/models/admin.server'
import { stagedImageViews } from '~/images/start.server'
import type { ImageView } from '~/images/variants'
import { verifyUploadRef } from '~/uploads/refs.server'
import type { CheckedImage, SubmitProgress } from '~/uploads/submission.server'
import {
  checkServices,
  UNAVAILABLE,
  unavailableService,
  withDeadline,
  type Service,
} from '~/utils/availability.server'
import { getEnv } from '~/utils/env.server'
import { sentImageRefs } from '~/utils/product-schema'

/** A new image a form keeps across submits (staged, not yet a product's). */
export interface KeptImage {
  ref: string
  fileName: string
  /** Its variants or placeholder (never the staged original); null when the database cannot say. */
  preview: ImageView | null
  /** Unknown when storage could not be asked (the form came back because it did not answer). */
  width: number | null
  height: number | null
}

/** Preview data for staged images a form keeps across submits. */
export async function keptImages(images: CheckedImage[]): Promise<KeptImage[]> {
  const previews = await stagedImageViews(images.map(({ image }) => image))
  return images.map(({ image, ref }, i) => ({
    ref,
    fileName: image.fileName,
    preview: previews[i] ?? null,
    width: image.width,
    height: image.height,
  }))
}

/**
 * `work`, unless S3 or PostgreSQL fails or keeps it waiting past SUBMIT_TIMEOUT_SECONDS: then the form
 * as far as it was read, built by `giveBack`, with a message naming the service that did not answer and
 * every image kept (those checked already, and every reference the form carried). A save that lands
 * after the answer is found again by the form's idempotency key when the admin resubmits.
 */
export async function whileAvailable<T>(
  admin: Admin,
  work: (progress: SubmitProgress) => Promise<T>,
  giveBack: (formData: FormData, imageErrors: string[], images: KeptImage[]) => Promise<T>,
): Promise<T> {
  const progress: SubmitProgress = {}
  const answer = async (service: Service) => {
    const formData = progress.formData ?? new FormData()
    const checked = progress.staged ?? []
    const known = new Set(checked.map((c) => c.ref))
    // References not checked yet keep their file name (it is signed) but get no preview.
    const others = sentImageRefs(formData)
      .filter((token) => !known.has(token))
      .flatMap((token) => {
        const verified = verifyUploadRef(token, admin.id)
        return verified.ok
          ? [{ ref: token, fileName: verified.ref.fileName, preview: null, width: null, height: null }]
          : []
      })
    return giveBack(formData, [UNAVAILABLE[service]], [...(await keptImages(checked)), ...others])
  }
  // A slow link may take minutes to send a no-JavaScript form's files: the clock starts once they are in.
  const received = new Promise<void>((resolve) => (progress.received = resolve))
  try {
    return await withDeadline(
      work(progress),
      getEnv().SUBMIT_TIMEOUT_SECONDS * 1000,
      async () => {
        const status = await checkServices()
        return answer(status.database === 'unavailable' ? 'database' : 'storage')
      },
      received,
    )
  } catch (error) {
    const service = unavailableService(error)
    if (!service) throw error
    console.error(`A submit found ${service} unavailable`, error)
    return answer(service)
  }
}
