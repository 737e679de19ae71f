/**
 * Limits that the browser and the server both enforce. The byte and count limits are settings
 * (MAX_IMAGE_BYTES, MAX_IMAGES_PER_PRODUCT) that the server validates and hands to the page;
 * the allowed types are in image-types.ts.
 */
export const DEFAULT_MAX_IMAGE_BYTES = 32 * 1024 * 1024
export const DEFAULT_MAX_IMAGES_PER_PRODUCT = 20
/**
 * Pixels one image may have (setting MAX_IMAGE_PIXELS): 50 MP, above any phone's photo (12-48 MP),
 * 200 MB once decoded to RGBA, far below the 268 MP where Chromium and sharp refuse to decode. A
 * small file can claim a huge size (a "decompression bomb"); this is checked from its header.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000
/** The longest side an image may have: WebP's own limit, and well inside PostgreSQL's integer. */
export const MAX_IMAGE_SIDE = 16_383

/** Files above this go up as S3 multipart uploads (setting MULTIPART_THRESHOLD_BYTES). */
export const DEFAULT_MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024
/**
 * Per-admin limits on new uploads (settings MAX_OPEN_UPLOADS_PER_ADMIN, NEW_UPLOADS_PER_MINUTE, and per
 * address NEW_UPLOADS_PER_MINUTE_PER_ADDRESS): far above a real admin (a batch of 20 photos, several
 * forms open, a retried drop), far below a script signing thousands of uploads of 32 MiB each, which
 * staging would hold until its lifecycle rule runs a day later.
 */
export const DEFAULT_MAX_OPEN_UPLOADS_PER_ADMIN = 500
export const DEFAULT_NEW_UPLOADS_PER_MINUTE = 300
export const DEFAULT_NEW_UPLOADS_PER_MINUTE_PER_ADDRESS = 600

/** Files uploading at once from one form (setting UPLOAD_CONCURRENCY). */
export const DEFAULT_UPLOAD_CONCURRENCY = 6

const MiB = 1024 * 1024
const MIN_PART_BYTES = 8 * MiB
const MAX_PART_BYTES = 64 * MiB
const TARGET_PARTS = 8
const MAX_PARTS = 10_000

/**
 * The part size of a browser multipart upload of `size` bytes. The uploader cuts files with it and the
 * server signs each part's exact Content-Length with it, so S3 itself refuses a part of another size.
 * About eight parts a file: each part costs a request, and a failed part is re-sent whole. The parts go
 * up in parallel on the connections the other files leave free; in the browser benchmark (a 128 MiB
 * file among 20 small ones) 4 or 16 parts were no faster than 8. 8 to 64 MiB, whole MiB, and never over
 * S3's 10,000.
 */
export function partSizeFor(size: number): number {
  const target = Math.ceil(size / TARGET_PARTS / MiB) * MiB
  return Math.max(Math.min(Math.max(target, MIN_PART_BYTES), MAX_PART_BYTES), Math.ceil(size / MAX_PARTS))
}

/** How many parts a file of `size` bytes has, and how long part `partNumber` (1-based) is. */
export function partLayout(size: number, partNumber?: number) {
  const partSize = partSizeFor(size)
  const count = Math.max(1, Math.ceil(size / partSize))
  const length =
    partNumber === undefined || partNumber < 1 || partNumber > count
      ? null
      : Math.min(partSize, size - (partNumber - 1) * partSize)
  return { partSize, count, length }
}

export interface UploaderSettings extends UploadLimits {
  multipartThresholdBytes: number
  concurrency: number
  /** How long a signed URL lives; the uploader uses a URL signed ahead only in the first half of that. */
  urlTtlSeconds: number
}

/** The most requests one batch to the signing route may carry. */
export const MAX_SIGN_BATCH = 100
/** The most finished uploads one call to the check route may carry. */
export const MAX_CHECK_BATCH = 100

export interface UploadLimits {
  maxImageBytes: number
  maxImagesPerProduct: number
  maxImagePixels: number
}

/** Why an image's claimed dimensions are refused, naming the file; null when they are fine. */
export function dimensionsProblem(
  fileName: string,
  { width, height }: { width: number; height: number },
  maxPixels: number,
): string | null {
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    return `${fileName} is ${width} × ${height} pixels; an image may be at most ${MAX_IMAGE_SIDE} pixels on a side.`
  }
  if (width * height > maxPixels) {
    const mp = (n: number) => `${Math.round(n / 100_000) / 10} megapixels`
    return `${fileName} has ${mp(width * height)} (${width} × ${height}); the limit is ${mp(maxPixels)}.`
  }
  return null
}

/** "32 MiB", "512 KiB", "900 bytes": how limits and sizes are shown to admins. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${trim(bytes / (1024 * 1024))} MiB`
  if (bytes >= 1024) return `${trim(bytes / 1024)} KiB`
  return `${bytes} bytes`
}

function trim(value: number) {
  return Number.isInteger(value) ? String(value) : value.toFixed(1)
}
