import type { Admin } from '~/models/admin.server'
import { unavailableService } from '~/utils/availability.server'
import { getEnv } from '~/utils/env.server'
import { FORM_FIELDS, sentImageRefs } from '~/utils/product-schema'
import { parseImageForm } from './form-stream.server'
import { formatBytes, type UploaderSettings, type UploadLimits } from './limits'
import { verifyUploadRef } from './refs.server'
import { checkStagedUpload, type StagedImage } from './staged-image.server'

export function getUploadLimits(): UploadLimits {
  const env = getEnv()
  return {
    maxImageBytes: env.MAX_IMAGE_BYTES,
    maxImagesPerProduct: env.MAX_IMAGES_PER_PRODUCT,
    maxImagePixels: env.MAX_IMAGE_PIXELS,
  }
}

export function getUploaderSettings(): UploaderSettings {
  const env = getEnv()
  return {
    ...getUploadLimits(),
    multipartThresholdBytes: env.MULTIPART_THRESHOLD_BYTES,
    concurrency: env.UPLOAD_CONCURRENCY,
    urlTtlSeconds: env.UPLOAD_URL_TTL_SECONDS,
  }
}

/** A staged image whose reference and bytes passed every check, with the reference it came in. */
export type CheckedImage = { image: StagedImage; ref: string }

/** What any product form (new or edit) submitted, once its files are in staging and its references checked. */
export interface Submission {
  formData: FormData
  /** New images, checked: references kept from earlier submits first, then this submit's files. */
  staged: CheckedImage[]
  imageErrors: string[]
}

/** How far a submit got: what it read so far, to give it back if it cannot finish (whileAvailable). */
export interface SubmitProgress {
  formData?: FormData
  /** Images of this form checked and staged so far. */
  staged?: CheckedImage[]
  /** Called once the whole body has arrived: only then does SUBMIT_TIMEOUT_SECONDS start. */
  received?: () => void
}

/**
 * Reads a product form, with or without JavaScript: streams its files to staging (checking each as it
 * goes) and checks every image reference that is not ticked for removal (HMAC, owner, expiry, then the
 * object itself). Returns a user-facing error instead when the request itself cannot be read.
 */
export async function readSubmission(
  request: Request,
  admin: Admin,
  progress: SubmitProgress = {},
): Promise<{ ok: true; submission: Submission } | { ok: false; error: string }> {
  const limits = getUploadLimits()
  const declared = Number(request.headers.get('Content-Length') ?? 0)
  const ceiling = limits.maxImagesPerProduct * limits.maxImageBytes + 4 * 1024 * 1024
  if (declared > ceiling) {
    return {
      ok: false,
      error: `The upload is larger than ${formatBytes(ceiling)}; add fewer or smaller images.`,
    }
  }

  let formData: FormData
  let uploaded: CheckedImage[] = []
  let fileErrors: string[] = []
  if ((request.headers.get('Content-Type') ?? '').startsWith('multipart/form-data')) {
    try {
      ;({ formData, uploaded, fileErrors } = await parseImageForm(request, {
        adminId: admin.id,
        fileField: FORM_FIELDS.images,
        limits,
        onFormData: (form) => (progress.formData = form),
      }))
    } catch (error) {
      if (unavailableService(error)) throw error
      console.error('Could not parse a product form', error)
      return { ok: false, error: 'The form could not be read; please submit it again.' }
    } finally {
      progress.received?.()
    }
  } else {
    try {
      formData = await request.formData()
      progress.formData = formData
    } catch {
      // Not a form at all (text/plain, JSON, a body that does not match its Content-Type).
      return { ok: false, error: 'The form could not be read; please submit it again.' }
    } finally {
      progress.received?.()
    }
  }

  const uploadedKeys = uploaded.map((checked) => checked.image.key)
  const imageErrors = [...fileErrors]
  const refs = sentImageRefs(formData)
  const checks = await Promise.all(
    refs.map(async (token): Promise<CheckedImage | string> => {
      const verified = verifyUploadRef(token, admin.id)
      if (!verified.ok)
        return 'An image reference could not be verified (forged, expired or not yours); please add that image again.'
      const check = await checkStagedUpload(verified.ref, limits)
      return check.ok ? { image: check.image, ref: token } : check.error
    }),
  )
  const kept: CheckedImage[] = []
  const keys = new Set(uploadedKeys)
  for (const check of checks) {
    if (typeof check === 'string') imageErrors.push(check)
    else if (keys.has(check.image.key)) {
      imageErrors.push(`${check.image.fileName} was in the form twice; it is kept once.`)
    } else {
      keys.add(check.image.key)
      kept.push(check)
    }
  }
  progress.staged = [...kept, ...uploaded]
  return { ok: true, submission: { formData, staged: progress.staged, imageErrors } }
}
