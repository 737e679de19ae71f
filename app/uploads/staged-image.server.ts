import { SNIFF_BYTES } from './sniff'
import { sniffProblem, sniffUpload } from './sniff.server'
import { ObjectChangedError, readObjectRange, readObjectStart } from '~/utils/storage.server'
import type { UploadRef } from './refs.server'
import { dimensionsProblem, formatBytes, type UploadLimits } from './limits'
import { ALLOWED_TYPES_LABEL, type ImageType } from './image-types'

/** A staged object whose bytes the server has checked: it exists, fits the limit and is an image. */
export interface StagedImage {
  key: string
  fileName: string
  contentType: ImageType
  byteSize: number
  width: number
  height: number
  /** The ETag of the bytes that were checked: the copy into a product is conditional on it. */
  etag: string
}

export type StagedCheck = { ok: true; image: StagedImage } | { ok: false; error: string }

/**
 * The check every image passes before it is attached, whichever way it was uploaded: the object exists,
 * its size is within the limit, and its header is an accepted image (whatever type it was uploaded as)
 * with dimensions within the limits. The ETag of what was read is kept, so exactly these bytes are copied.
 */
export async function checkStagedUpload(
  ref: UploadRef,
  { maxImageBytes: maxBytes, maxImagePixels }: Pick<UploadLimits, 'maxImageBytes' | 'maxImagePixels'>,
): Promise<StagedCheck> {
  const name = ref.fileName
  const info = await readObjectStart(ref.key, SNIFF_BYTES)
  if (!info)
    return {
      ok: false,
      error: `${name} is not in storage (it never finished uploading or has expired); please add it again.`,
    }
  if (info.byteSize > maxBytes) {
    return { ok: false, error: `${name} is larger than ${formatBytes(maxBytes)}, the limit for one image.` }
  }
  const etag = info.etag
  if (!etag) throw new Error(`S3 returned no ETag for ${ref.key}`)
  let sniff
  try {
    sniff = await sniffUpload(info.head, {
      byteSize: info.byteSize,
      read: (start, length) => readObjectRange(ref.key, start, length, etag),
    })
  } catch (error) {
    if (!(error instanceof ObjectChangedError)) throw error
    return { ok: false, error: `${name} changed in storage while it was being checked; please add it again.` }
  }
  if (!sniff.ok) return { ok: false, error: sniffProblem(name, sniff, ALLOWED_TYPES_LABEL) }
  // The bytes decide the type, not the name: a PNG saved as .jpg is taken as the PNG it is.
  const sniffed = sniff.image
  const tooLarge = dimensionsProblem(name, sniffed, maxImagePixels)
  if (tooLarge) return { ok: false, error: tooLarge }
  return {
    ok: true,
    image: {
      key: ref.key,
      fileName: name,
      contentType: sniffed.type,
      byteSize: info.byteSize,
      width: sniffed.width,
      height: sniffed.height,
      etag,
    },
  }
}
