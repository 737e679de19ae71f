/**
 * Every image type the app accepts, once: the file extension its keys get, the extensions a browser
 * may send it under (often with an empty type, as for .heic), the name messages use, and how pages
 * describe it. The allowed list, the labels, the signing route's key pattern, the uploader's and the
 * file input's accept lists and the README's table derive from it, and a test holds the database's
 * check on product_images.content_type to it.
 */
export const IMAGE_TYPES = {
  'image/jpeg': {
    extension: 'jpg',
    extensions: ['.jpg', '.jpeg', '.jfif'],
    label: 'JPEG',
    notes: 'baseline, progressive, arithmetic-coded and lossless; CMYK; 8-bit (12-bit is refused in words)',
  },
  'image/png': {
    extension: 'png',
    extensions: ['.png', '.apng'],
    label: 'PNG',
    notes: '8 and 16 bits, palette, greyscale, transparency; APNG shows its first frame',
  },
  'image/webp': {
    extension: 'webp',
    extensions: ['.webp'],
    label: 'WebP',
    notes: 'lossy, lossless, animated',
  },
  'image/gif': { extension: 'gif', extensions: ['.gif'], label: 'GIF', notes: 'animated' },
  'image/avif': {
    extension: 'avif',
    extensions: ['.avif', '.avifs'],
    label: 'AVIF',
    notes: '8/10/12-bit, HDR, grids, alpha, rotation; an animated one shows its still image',
  },
  'image/heic': {
    extension: 'heic',
    extensions: ['.heic', '.hif'],
    label: 'HEIC',
    notes: 'iPhone and Android photos (HEVC in HEIF), grids, Display P3, rotation; decoded by libheif',
  },
  'image/heif': {
    extension: 'heif',
    extensions: ['.heif'],
    label: 'HEIF',
    notes: 'HEIF containers of other phones and cameras (HEVC or AV1)',
  },
} as const satisfies Record<
  string,
  { extension: string; extensions: readonly string[]; label: string; notes: string }
>

export type ImageType = keyof typeof IMAGE_TYPES

export const ALLOWED_IMAGE_TYPES = Object.keys(IMAGE_TYPES) as [ImageType, ...ImageType[]]

/** The types in a HEIF container (ISOBMFF boxes), whose size comes from the container itself. */
const HEIF_TYPES: readonly ImageType[] = ['image/avif', 'image/heic', 'image/heif']

export function isHeifType(type: ImageType | null): type is 'image/avif' | 'image/heic' | 'image/heif' {
  return type !== null && HEIF_TYPES.includes(type)
}

export const IMAGE_EXTENSIONS = Object.fromEntries(
  ALLOWED_IMAGE_TYPES.map((type) => [type, IMAGE_TYPES[type].extension]),
) as { [T in ImageType]: (typeof IMAGE_TYPES)[T]['extension'] }

/**
 * What a file picker and the uploader accept: every type and every extension. Browsers give .heic and
 * .heif files an empty type (no operating system tells them the type), so the extensions are needed.
 */
export const ACCEPTED_FILE_TYPES: string[] = ALLOWED_IMAGE_TYPES.flatMap((type) => [
  type,
  ...IMAGE_TYPES[type].extensions,
])

/** The type a file name's extension implies, for files a browser hands over with no type; null when none. */
export function imageTypeForFileName(fileName: string): ImageType | null {
  const extension = /\.[a-z0-9]+$/i.exec(fileName)?.[0].toLowerCase()
  if (!extension) return null
  return (
    ALLOWED_IMAGE_TYPES.find((type) =>
      (IMAGE_TYPES[type].extensions as readonly string[]).includes(extension),
    ) ?? null
  )
}

/** "JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF" */
export const ALLOWED_TYPES_LABEL = ALLOWED_IMAGE_TYPES.map((type) => IMAGE_TYPES[type].label)
  .join(', ')
  .replace(/, ([^,]*)$/, ' or $1')

/** A UUID as the server writes it (lower case), for patterns that match keys. */
export const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

/** Any accepted image's extension, as a pattern group. */
export const EXTENSION_PATTERN = `(${ALLOWED_IMAGE_TYPES.map((type) => IMAGE_TYPES[type].extension).join('|')})`

/** The README's table of supported formats, as this table has them (a test compares the two). */
export function formatsTable(): string {
  const rows = ALLOWED_IMAGE_TYPES.map(
    (type) =>
      `| ${IMAGE_TYPES[type].label} | \`${type}\` | ${IMAGE_TYPES[type].extensions.join(' ')} | ${IMAGE_TYPES[type].notes} |`,
  )
  return ['| format | type | extensions | what is accepted |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  )
}
