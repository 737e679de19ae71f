import { sniffImage, SNIFF_BYTES } from './sniff'
import { readObjectStart } from '~/utils/storage.server'
import type { UploadRef } from './refs.server'
import { dimensionsProblem, formatBytes, type UploadLimits } from './limits'
import { ALLOWED_TYPES_LABEL, IMAGE_TYPES, type ImageType } from './image-types'

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
 * its size is within the limit, and its first bytes are an allowed image of the type it was uploaded as,
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
  const sniffed = sniffImage(info.head)
  if (!sniffed) return { ok: false, error: `${name} is not an image we accept (${ALLOWED_TYPES_LABEL}).` }
  if (sniffed.type !== ref.contentType) {
    return {
      ok: false,
      error: `${name} holds ${IMAGE_TYPES[sniffed.type].label} data but was uploaded as ${IMAGE_TYPES[ref.contentType].label}; give it the right extension and add it again.`,
    }
  }
  const tooLarge = dimensionsProblem(name, sniffed, maxImagePixels)
  if (tooLarge) return { ok: false, error: tooLarge }
  if (!info.etag) throw new Error(`S3 returned no ETag for ${ref.key}`)
  return {
    ok: true,
    image: {
      key: ref.key,
      fileName: name,
      contentType: sniffed.type,
      byteSize: info.byteSize,
      width: sniffed.width,
      height: sniffed.height,
      etag: info.etag,
    },
  }
}
