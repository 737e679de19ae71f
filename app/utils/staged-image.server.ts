import { sniffImage, SNIFF_BYTES } from './image-type'
import { readObjectStart } from './storage.server'
import type { UploadRef } from './upload-ref.server'
import { ALLOWED_TYPES_LABEL, formatBytes, type ImageType } from './upload-limits'

/** A staged object whose bytes the server has checked: it exists, fits the limit and is an image. */
export interface StagedImage {
  key: string
  fileName: string
  contentType: ImageType
  byteSize: number
  width: number
  height: number
}

export type StagedCheck = { ok: true; image: StagedImage } | { ok: false; error: string }

const TYPE_NAMES: Record<ImageType, string> = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/webp': 'WebP',
  'image/gif': 'GIF',
  'image/avif': 'AVIF',
}

/**
 * The check every image passes before it is attached, whichever way it was uploaded: the object exists
 * (HeadObject), its size is within the limit, and its first bytes are an allowed image of the type it
 * was uploaded as; the dimensions come from those bytes.
 */
export async function checkStagedUpload(
  ref: UploadRef,
  { maxBytes }: { maxBytes: number },
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
      error: `${name} holds ${TYPE_NAMES[sniffed.type]} data but was uploaded as ${TYPE_NAMES[ref.contentType]}; give it the right extension and add it again.`,
    }
  }
  return {
    ok: true,
    image: {
      key: ref.key,
      fileName: name,
      contentType: sniffed.type,
      byteSize: info.byteSize,
      width: sniffed.width,
      height: sniffed.height,
    },
  }
}
