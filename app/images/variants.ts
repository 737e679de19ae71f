/**
 * The variant set: every image the app shows is one of these, made by the worker from the original
 * (app/images/process.server.ts). Change them here, then run `npm run images:reprocess`.
 */

/** Widths in CSS pixels; an image narrower than one gets its own width instead, never an upscale. */
export const VARIANT_WIDTHS = [256, 512, 1024, 2048] as const

/**
 * WebP only: on this machine AVIF took 20x WebP's encoding time for 14% fewer bytes (a 12 MP photo's
 * four widths: 10.6 s against 0.52 s), which does not pay for itself (README, "Benchmarks"). Adding
 * 'avif' here makes pages offer it first.
 */
export const VARIANT_FORMATS = ['webp'] as const satisfies readonly VariantFormat[]

export type VariantFormat = 'webp' | 'avif'

export const VARIANT_QUALITY: Record<VariantFormat, number> = { webp: 75, avif: 50 }

export const VARIANT_MIME: Record<VariantFormat, string> = { webp: 'image/webp', avif: 'image/avif' }

/** Names the set above; an image made with another set is remade by `npm run images:reprocess`. */
export const VARIANT_VERSION = `w${VARIANT_WIDTHS.join('-')}.${VARIANT_FORMATS.map(
  (format) => `${format}${VARIANT_QUALITY[format]}`,
).join('-')}`

/** The widths to make for an image `width` pixels wide: the set's smaller ones, then its own (capped). */
export function variantWidths(width: number): number[] {
  const largest = VARIANT_WIDTHS.at(-1)!
  const widths: number[] = VARIANT_WIDTHS.filter((w) => w < width)
  if (widths.at(-1) !== largest) widths.push(Math.min(width, largest))
  return widths
}

/**
 * What a page needs to show one image (app/components/variant-image.tsx): its variants as srcset
 * candidates once they are made; before that only its placeholder; if making them failed, why.
 * Never a URL of the original.
 */
export interface ImageView {
  status: 'pending' | 'ready' | 'failed'
  width: number
  height: number
  /** Fallback and srcset of the first format; `sources` offers the others first (AVIF before WebP). */
  src: string | null
  srcSet: string | null
  sources: { type: string; srcSet: string }[]
  placeholder: string | null
  color: string | null
  /** Why the variants could not be made, in words; the page names the file (`fileName`) before it. */
  failure: string | null
  fileName: string | null
}
