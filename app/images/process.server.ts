import sharp, { type Sharp, type SharpOptions } from 'sharp'
import { rgbaToThumbHash } from 'thumbhash'
import { errorMessage } from '~/utils/errors'
import { VARIANT_FORMATS, VARIANT_QUALITY, variantWidths, type VariantFormat } from './variants'

// libvips' operation cache keeps decoded images around for reuse; each original is processed once.
sharp.cache(false)

/** The image's own data is the problem (corrupt, truncated, too many pixels): retrying cannot help. */
export class UnprocessableImageError extends Error {
  override name = 'UnprocessableImageError'
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
 * limit. Bad data throws UnprocessableImageError with the decoder's reason.
 */
export async function makeVariants(input: Uint8Array, { maxPixels }: { maxPixels: number }) {
  try {
    return await process(input, maxPixels)
  } catch (error) {
    throw new UnprocessableImageError(describeFailure(error, maxPixels))
  }
}

async function process(input: Uint8Array, maxPixels: number): Promise<ProcessedImage> {
  // 'error' refuses truncated and corrupt data; mere warnings (stray bytes after the end) pass.
  const open = (options: SharpOptions = {}) =>
    sharp(input, { limitInputPixels: maxPixels, failOn: 'error', ...options }).timeout({
      seconds: TIMEOUT_SECONDS,
    })
  const meta = await open({ animated: true }).metadata()
  const animated = (meta.pages ?? 1) > 1
  // Decoded once, oriented and at the largest width any variant needs; every variant is made from it.
  const rotated = (meta.orientation ?? 1) >= 5
  const width = rotated ? (meta.pageHeight ?? meta.height) : meta.width
  const widths = variantWidths(width)
  const largest = widths.at(-1)!
  const base = animated
    ? null
    : await open()
        .autoOrient()
        .resize({ width: largest, withoutEnlargement: true })
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true })
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

/** The decoder's complaint, in words an admin can act on. */
function describeFailure(error: unknown, maxPixels: number) {
  const message = errorMessage(error).replace(/\s+/g, ' ').trim()
  if (/pixel limit/i.test(message)) {
    const megapixels = (maxPixels / 1e6).toLocaleString('en', { maximumFractionDigits: 1 })
    return `It has more pixels than the ${megapixels} MP limit (all frames counted).`
  }
  if (/timeout/i.test(message)) return `It took longer than ${TIMEOUT_SECONDS} s to process.`
  if (/premature end|truncated|unexpected end|not enough data|read error|end of/i.test(message)) {
    return `Its data is truncated (${message.slice(0, 200)}).`
  }
  return `Its data could not be decoded (${message.slice(0, 200)}).`
}
