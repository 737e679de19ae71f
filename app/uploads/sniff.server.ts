import sharp from 'sharp'
import { readHeifContainer, readHeifTail } from './heif-container'
import { detectImageType, jpegPrecision, sniffImage, type SniffedImage } from './sniff'
import { IMAGE_TYPES, isHeifType, type ImageType } from './image-types'

/** The rest of an object whose first bytes did not hold its whole header. */
export interface ObjectReader {
  byteSize: number
  read(start: number, length: number): Promise<Uint8Array>
}

/** A HEIF's meta box is a few KiB; this much past its image data is plenty. */
const HEIF_TAIL_BYTES = 1024 * 1024
/** A JPEG may carry megabytes of ICC profile and XMP before its frame header; past this it is refused. */
const MAX_JPEG_HEADER_BYTES = 16 * 1024 * 1024

export type UploadSniff =
  | { ok: true; image: SniffedImage }
  | { ok: false; problem: 'not-an-image' | 'no-size'; type: ImageType | null }
  | { ok: false; problem: 'unsupported'; type: ImageType; precision: number }

/**
 * What a file's first bytes prove: an accepted image with its size, or why not. The header reader
 * gives the size where it can; where it gives up (arithmetic-coded and lossless JPEGs), libvips reads
 * the header instead, still without decoding a pixel. A HEIF's size comes from its container only.
 * Kinds no decoder here reads (a 12-bit JPEG) are refused now rather than failing later.
 */
export async function sniffUpload(head: Uint8Array, object?: ObjectReader): Promise<UploadSniff> {
  const type = detectImageType(head)
  if (!type) return { ok: false, problem: 'not-an-image', type: null }
  if (isHeifType(type)) {
    const sniffed = sniffImage(head) ?? (object ? await readHeifSize(head, object) : null)
    return sniffed ? { ok: true, image: sniffed } : { ok: false, problem: 'no-size', type }
  }
  if (type === 'image/jpeg' && jpegPrecision(head) === null && object && head.length < object.byteSize) {
    // Its frame header lies past the first bytes: large ICC profiles and XMP come before it.
    head = await object.read(0, Math.min(object.byteSize, MAX_JPEG_HEADER_BYTES))
  }
  const precision = type === 'image/jpeg' ? (jpegPrecision(head) ?? 8) : 8
  if (precision !== 8) return { ok: false, problem: 'unsupported', type, precision }
  const sniffed = sniffImage(head) ?? (await readHeader(head, type))
  return sniffed ? { ok: true, image: sniffed } : { ok: false, problem: 'no-size', type }
}

async function readHeifSize(head: Uint8Array, object: ObjectReader): Promise<SniffedImage | null> {
  const container = readHeifContainer(head)
  if (!container || container.continueAt === null || container.continueAt >= object.byteSize) return null
  const tail = await object.read(
    container.continueAt,
    Math.min(HEIF_TAIL_BYTES, object.byteSize - container.continueAt),
  )
  const { type, width, height } = readHeifTail(container, tail)
  return width && height ? { type, width, height } : null
}

async function readHeader(head: Uint8Array, type: ImageType): Promise<SniffedImage | null> {
  try {
    const meta = await sharp(head, { limitInputPixels: false }).metadata()
    const turned = (meta.orientation ?? 1) >= 5
    const width = turned ? meta.height : meta.width
    const height = turned ? meta.width : meta.height
    return width && height ? { type, width, height } : null
  } catch {
    return null
  }
}

/** Why a file that is not accepted is refused, in words that name it and say what to do. */
export function sniffProblem(
  fileName: string,
  sniff: Extract<UploadSniff, { ok: false }>,
  acceptedLabel: string,
) {
  switch (sniff.problem) {
    case 'not-an-image':
      return `${fileName} is not an image we accept (${acceptedLabel}).`
    case 'unsupported':
      return `${fileName} is a ${sniff.precision}-bit JPEG, a kind browsers cannot show; export it as an ordinary 8-bit JPEG and add it again.`
    case 'no-size':
      return `${fileName} looks like ${sniff.type ? `a ${IMAGE_TYPES[sniff.type].label}` : 'an'} image but does not say how large it is: it is damaged or incomplete; export it again and add it.`
  }
}
