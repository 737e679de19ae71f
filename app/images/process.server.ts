import sharp, { type Sharp, type SharpOptions } from 'sharp'
import { rgbaToThumbHash } from 'thumbhash'
import { errorMessage } from '~/utils/errors'
import { isHeifTruncated, readHeifContainer, type HeifContainer } from '~/uploads/heif-container'
import { isHeifType } from '~/uploads/image-types'
import { detectImageType } from '~/uploads/sniff'
import { decodeHeic, HeicDecodeError } from './heic-decoder.server'
import {
  VARIANT_FORMATS,
  VARIANT_QUALITY,
  VARIANT_WIDTHS,
  variantWidths,
  type VariantFormat,
} from './variants'

// libvips' operation cache keeps decoded images around for reuse; each original is processed once.
sharp.cache(false)

/**
 * The image's own data is the problem (damaged, too many pixels, a kind no decoder here reads): retrying
 * cannot help. `message` is for the admin, in words; `detail` is the decoder's own, for the log.
 */
export class UnprocessableImageError extends Error {
  override name = 'UnprocessableImageError'
  constructor(
    message: string,
    readonly detail: string = message,
  ) {
    super(message)
  }
}

export interface Variant {
  format: VariantFormat
  width: number
  height: number
  data: Buffer
}

export interface ProcessedImage {
  variants: Variant[]
  /** A ThumbHash (base64): the image's shape and colours in a few dozen bytes. */
  placeholder: string
  /** The dominant colour, `#rrggbb`. */
  color: string
}

/** No image takes longer than this to process; a pathological file fails instead of holding a worker. */
const TIMEOUT_SECONDS = 60

/**
 * Makes the variant set of one image: each width (never upscaled) in each format, oriented as the
 * camera meant, in sRGB, with transparency and animation kept and every metadata block (EXIF, GPS,
 * XMP, ICC, comments) dropped. `maxPixels` bounds the decoder, frames counted: the upload checks'
 * limit. A HEIC is decoded by libheif (its primary image only), everything else by libvips. Bad data
 * throws UnprocessableImageError, with words for the admin and the decoder's reason as its detail.
 */
export async function makeVariants(input: Uint8Array, { maxPixels }: { maxPixels: number }) {
  try {
    return await process(input, maxPixels)
  } catch (error) {
    if (error instanceof UnprocessableImageError) throw error
    throw describeFailure(error, maxPixels, input)
  }
}

/** Animations are made of frames of one size; HEIF's other images (thumbnails, tiles) are not frames. */
const ANIMATED_FORMATS = new Set(['gif', 'webp', 'png'])

const DAMAGED = 'It is damaged or incomplete: export or download it again, then add it.'

async function process(original: Uint8Array, maxPixels: number): Promise<ProcessedImage> {
  const { input, container } = heifInput(original)
  // 'error' refuses truncated and corrupt data; mere warnings (stray bytes after the end) pass.
  const open = (options: SharpOptions = {}) =>
    sharp(input, { limitInputPixels: maxPixels, failOn: 'error', ...options }).timeout({
      seconds: TIMEOUT_SECONDS,
    })
  let decoded: Sharp | null = null
  let width: number
  let animated = false
  // HEVC-coded HEIF (iPhone and most Android photos), which sharp's own libvips cannot decode; an AVIF,
  // or a HEIF holding AV1, goes to libvips.
  if (container && container.type !== 'image/avif' && container.primaryType !== 'av01') {
    const heic = await decodeHeic(input, {
      maxPixels,
      timeoutMs: TIMEOUT_SECONDS * 1000,
      maxWidth: VARIANT_WIDTHS.at(-1),
    })
    decoded = heic.image
    width = heic.width
  } else {
    const meta = await open().metadata()
    animated = ANIMATED_FORMATS.has(meta.format ?? '') && (meta.pages ?? 1) > 1
    // Decoded once, oriented and at the largest width any variant needs; every variant is made from it.
    const rotated = (meta.orientation ?? 1) >= 5
    width = (rotated ? (meta.pageHeight ?? meta.height) : meta.width) ?? 0
  }
  const widths = variantWidths(width)
  const largest = widths.at(-1)!
  const base = animated
    ? null
    : await (decoded ?? open().autoOrient())
        .resize({ width: largest, withoutEnlargement: true })
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true })
  decoded = null
  const fromBase = (): Sharp =>
    base
      ? sharp(base.data, { raw: base.info }).timeout({ seconds: TIMEOUT_SECONDS })
      : open({ animated: true }).autoOrient()

  const variants: Variant[] = []
  for (const format of VARIANT_FORMATS) {
    for (const w of widths) {
      const pipeline = fromBase().resize({ width: w, withoutEnlargement: true }).toColourspace('srgb')
      const encoded = await (
        format === 'webp'
          ? pipeline.webp({ quality: VARIANT_QUALITY.webp, effort: 4 })
          : pipeline.avif({ quality: VARIANT_QUALITY.avif, effort: 4 })
      ).toBuffer({ resolveWithObject: true })
      variants.push({
        format,
        width: encoded.info.width,
        height: encoded.info.pageHeight ?? encoded.info.height,
        data: encoded.data,
      })
    }
  }

  // The placeholder and colour come from the first frame, at most 100 px a side as ThumbHash requires.
  const still = base ? sharp(base.data, { raw: base.info }) : open().autoOrient()
  const small = await still
    .resize(100, 100, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  const hash = rgbaToThumbHash(small.info.width, small.info.height, small.data)
  const { dominant } = await sharp(small.data, { raw: small.info }).removeAlpha().stats()
  const hex = (n: number) => n.toString(16).padStart(2, '0')
  return {
    variants,
    placeholder: Buffer.from(hash).toString('base64'),
    color: `#${hex(dominant.r)}${hex(dominant.g)}${hex(dominant.b)}`,
  }
}

/**
 * A HEIF-family file as the decoders should see it. One cut short is refused here: libheif decodes a
 * grid whose tiles are missing without a word. One with no still image (a bare sequence) cannot be
 * shown. An animated AVIF whose major brand is 'avis' is handed to libvips as 'avif' (a copy: the
 * original is kept as uploaded), which libvips' loader otherwise refuses although the file carries a
 * still primary image; libvips reads no AVIF sequences, so the page shows that still image.
 */
function heifInput(input: Uint8Array): { input: Uint8Array; container: HeifContainer | null } {
  const container = isHeifType(detectImageType(input)) ? readHeifContainer(input) : null
  if (!container) return { input, container }
  if (isHeifTruncated(input))
    throw new UnprocessableImageError(DAMAGED, 'a top-level box runs past the end of the file')
  if (!container.primaryType) {
    throw new UnprocessableImageError(
      'It holds only a moving sequence and no still image: export a still photo (or an animated GIF or WebP) and add it again.',
      `no primary image item (brands ${container.brands.join(', ')})`,
    )
  }
  if (container.brands[0] !== 'avis') return { input, container }
  const still = Uint8Array.from(input)
  still.set([0x61, 0x76, 0x69, 0x66], 8)
  return { input: still, container }
}

/** The decoder's complaint, in words an admin can act on; its own words stay in `detail`, for the log. */
function describeFailure(error: unknown, maxPixels: number, input?: Uint8Array) {
  const detail = errorMessage(error).replace(/\s+/g, ' ').trim().slice(0, 500)
  const fail = (message: string) => new UnprocessableImageError(message, detail)
  const reason = error instanceof HeicDecodeError ? error.reason : null
  if (reason === 'too-many-pixels' || /pixel limit/i.test(detail)) {
    const megapixels = (maxPixels / 1e6).toLocaleString('en', { maximumFractionDigits: 1 })
    return fail(
      `It has more pixels than the ${megapixels} MP limit (all frames counted): export it smaller and add it again.`,
    )
  }
  if (reason === 'timeout' || /timeout/i.test(detail)) {
    return fail(`It took longer than ${TIMEOUT_SECONDS} s to prepare: export it smaller and add it again.`)
  }
  const precision = /data precision (\d+)/i.exec(detail)?.[1]
  if (precision) {
    return fail(
      `It is a ${precision}-bit JPEG, a kind browsers cannot show: export it as an ordinary 8-bit JPEG and add it again.`,
    )
  }
  if (reason === 'unsupported' || /unsupported|not supported|not built in|no decoder/i.test(detail)) {
    const kind = input ? detectImageType(input) : null
    return fail(
      `It uses a kind of ${kind ? kind.replace('image/', '').toUpperCase() : 'image'} this app cannot decode: export it again as an ordinary JPEG or PNG and add it.`,
    )
  }
  return fail(DAMAGED)
}
