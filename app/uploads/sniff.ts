import { imageSize } from 'image-size'
import { readHeifContainer } from './heif-container'
import { isHeifType, type ImageType } from './image-types'

export interface SniffedImage {
  type: ImageType
  width: number
  height: number
}

/** Bytes from the start of a file that are enough to know its type and dimensions in practice. */
export const SNIFF_BYTES = 512 * 1024

/**
 * The image type that a file's first bytes prove, by magic number alone; null for anything else
 * (HTML renamed .png, SVG, PDF, truncated files). Never trusts a file name or a declared type.
 */
export function detectImageType(head: Uint8Array): ImageType | null {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return 'image/gif'
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'image/webp'
  if (ascii(head, 4, 8) === 'ftyp') return readHeifContainer(head)?.type ?? null
  return null
}

/**
 * Type and pixel dimensions from the first bytes of a file (give it at least SNIFF_BYTES when the
 * file is that long). Returns null when the bytes are not an allowed image or carry no readable size.
 */
export function sniffImage(head: Uint8Array): SniffedImage | null {
  const type = detectImageType(head)
  if (!type) return null
  if (isHeifType(type)) {
    // The primary image's own size, turned as the container says (not a thumbnail's or a tile's).
    const { width, height } = readHeifContainer(head) ?? {}
    return width && height ? { type, width, height } : null
  }
  try {
    const size = imageSize(head)
    const width = size.orientation && size.orientation >= 5 ? size.height : size.width
    const height = size.orientation && size.orientation >= 5 ? size.width : size.height
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return null
    return { type, width, height }
  } catch {
    return null
  }
}

function startsWith(bytes: Uint8Array, magic: number[]) {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b)
}

function ascii(bytes: Uint8Array, start: number, end: number) {
  if (bytes.length < end) return ''
  return String.fromCharCode(...bytes.subarray(start, end))
}

/** JPEG frame headers: baseline, extended, progressive and lossless, Huffman- or arithmetic-coded. */
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf])

/**
 * The sample precision a JPEG's frame header declares: 8 for nearly every JPEG; 12 and 16 exist (medical
 * and some raw converters' output), which libvips and browsers cannot decode. Null when no frame header
 * is found in `head`.
 */
export function jpegPrecision(head: Uint8Array): number | null {
  let at = 2
  while (at + 4 <= head.length) {
    if (head[at] !== 0xff) return null
    const marker = head[at + 1]!
    if (marker === 0xff) {
      at += 1
      continue
    }
    if (SOF_MARKERS.has(marker)) return at + 4 < head.length ? head[at + 4]! : null
    if (marker === 0xda || marker === 0xd9) return null
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2
      continue
    }
    at += 2 + ((head[at + 2]! << 8) | head[at + 3]!)
  }
  return null
}
