/**
 * Limits that the browser and the server both enforce. The byte and count limits are settings
 * (MAX_IMAGE_BYTES, MAX_IMAGES_PER_PRODUCT) that the server validates and hands to the page;
 * the allowed types are fixed here, once.
 */
export const ALLOWED_IMAGE_TYPES = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
] as const
export type ImageType = (typeof ALLOWED_IMAGE_TYPES)[number]

export const IMAGE_EXTENSIONS: Record<ImageType, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
}

export const DEFAULT_MAX_IMAGE_BYTES = 32 * 1024 * 1024
export const DEFAULT_MAX_IMAGES_PER_PRODUCT = 20

export const ALLOWED_TYPES_LABEL = 'JPEG, PNG, WebP, GIF or AVIF'

export interface UploadLimits {
  maxImageBytes: number
  maxImagesPerProduct: number
}

export function isAllowedImageType(type: string): type is ImageType {
  return (ALLOWED_IMAGE_TYPES as readonly string[]).includes(type)
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
