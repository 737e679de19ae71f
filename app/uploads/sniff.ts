import { imageSize } from 'image-size'
import type { ImageType } from './image-types'

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
  if (ascii(head, 4, 8) === 'ftyp' && isAvifFtyp(head)) return 'image/avif'
  return null
}

/**
 * Type and pixel dimensions from the first bytes of a file (give it at least SNIFF_BYTES when the
 * file is that long). Returns null when the bytes are not an allowed image or carry no readable size.
 */
export function sniffImage(head: Uint8Array): SniffedImage | null {
  const type = detectImageType(head)
  if (!type) return null
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

function isAvifFtyp(head: Uint8Array) {
  const boxSize = ((head[0] ?? 0) << 24) | ((head[1] ?? 0) << 16) | ((head[2] ?? 0) << 8) | (head[3] ?? 0)
  const end = Math.min(boxSize, head.length)
  if (end < 16) return false
  // Major brand at 8, minor version at 12, compatible brands from 16 on.
  for (let offset = 8; offset + 4 <= end; offset += offset === 8 ? 8 : 4) {
    const brand = ascii(head, offset, offset + 4)
    if (brand === 'avif' || brand === 'avis') return true
  }
  return false
}

function startsWith(bytes: Uint8Array, magic: number[]) {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b)
}

function ascii(bytes: Uint8Array, start: number, end: number) {
  if (bytes.length < end) return ''
  return String.fromCharCode(...bytes.subarray(start, end))
}
