/**
 * Every image type the app accepts, once: the file extension its keys get, the name messages use. The
 * allowed list, the labels, the signing route's key pattern and the accept attribute derive from it,
 * and a test holds the database's check on product_images.content_type to it.
 */
export const IMAGE_TYPES = {
  'image/jpeg': { extension: 'jpg', label: 'JPEG' },
  'image/png': { extension: 'png', label: 'PNG' },
  'image/webp': { extension: 'webp', label: 'WebP' },
  'image/gif': { extension: 'gif', label: 'GIF' },
  'image/avif': { extension: 'avif', label: 'AVIF' },
} as const satisfies Record<string, { extension: string; label: string }>

export type ImageType = keyof typeof IMAGE_TYPES

export const ALLOWED_IMAGE_TYPES = Object.keys(IMAGE_TYPES) as [ImageType, ...ImageType[]]

export const IMAGE_EXTENSIONS = Object.fromEntries(
  ALLOWED_IMAGE_TYPES.map((type) => [type, IMAGE_TYPES[type].extension]),
) as { [T in ImageType]: (typeof IMAGE_TYPES)[T]['extension'] }

/** "JPEG, PNG, WebP, GIF or AVIF" */
export const ALLOWED_TYPES_LABEL = ALLOWED_IMAGE_TYPES.map((type) => IMAGE_TYPES[type].label)
  .join(', ')
  .replace(/, ([^,]*)$/, ' or $1')

/** A UUID as the server writes it (lower case), for patterns that match keys. */
export const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

/** Any accepted image's extension, as a pattern group. */
export const EXTENSION_PATTERN = `(${ALLOWED_IMAGE_TYPES.map((type) => IMAGE_TYPES[type].extension).join('|')})`
