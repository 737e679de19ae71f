import { LRUCache } from 'lru-cache'
import { getProcessing, type Processing } from '~/models/image-processing.server'
import { withDeadline } from '~/utils/availability.server'
import { imageUrl } from './urls.server'
import { VARIANT_FORMATS, VARIANT_MIME, type ImageView } from './variants'

/** The fallback `src`: the smallest variant at least this wide (a browser without srcset gets it). */
const FALLBACK_WIDTH = 512

/**
 * A page that comes back while PostgreSQL stalls (an edit form, say) shows the images as this server
 * last saw them rather than wait on the database again.
 */
const LOOKUP_DEADLINE_MS = 2_000
const lastSeen = new LRUCache<string, Processing>({ max: 10_000 })

function remember(found: Map<string, Processing>) {
  for (const [id, processing] of found) lastSeen.set(id, processing)
  return found
}

function recalled(ids: readonly string[]) {
  return new Map(ids.flatMap((id) => (lastSeen.has(id) ? [[id, lastSeen.get(id)!] as const] : [])))
}

export async function imageViews(
  images: readonly { processingId: string; width: number; height: number; fileName?: string | null }[],
): Promise<ImageView[]> {
  const ids = images.map((image) => image.processingId)
  const processing = await withDeadline(getProcessing(ids).then(remember), LOOKUP_DEADLINE_MS, () =>
    recalled(ids),
  ).catch(() => recalled(ids))
  return Promise.all(
    images.map(async (image) => {
      const found = processing.get(image.processingId)
      return found ? toView(found, image) : pendingView(image)
    }),
  )
}

export async function toView(
  processing: Processing,
  original: { width: number; height: number; fileName?: string | null },
): Promise<ImageView> {
  const candidates = await Promise.all(
    VARIANT_FORMATS.map(async (format) => {
      const variants = processing.variants.filter((v) => v.format === format)
      const urls = await Promise.all(variants.map((v) => imageUrl(v.key)))
      return { format, variants, urls }
    }),
  )
  const [first, ...others] = candidates
  const ready = processing.status === 'ready' && first && first.variants.length > 0
  // The largest variant has the oriented shape (a phone's portrait photo is stored sideways).
  const largest = ready ? first.variants.at(-1)! : null
  const wideEnough = ready ? first.variants.findIndex((v) => v.width >= FALLBACK_WIDTH) : -1
  const fallback = ready && wideEnough === -1 ? first.variants.length - 1 : wideEnough
  const srcSetOf = (c: (typeof candidates)[number]) =>
    c.variants.map((v, i) => `${c.urls[i]} ${v.width}w`).join(', ')
  return {
    status: ready ? 'ready' : processing.status === 'failed' ? 'failed' : 'pending',
    width: largest?.width ?? original.width,
    height: largest?.height ?? original.height,
    src: ready ? first.urls[fallback]! : null,
    srcSet: ready ? srcSetOf(first) : null,
    sources: ready
      ? others
          .filter((c) => c.variants.length > 0)
          .map((c) => ({ type: VARIANT_MIME[c.format], srcSet: srcSetOf(c) }))
      : [],
    placeholder: processing.placeholder,
    color: processing.color,
    failure: processing.status === 'failed' ? processing.failure : null,
    fileName: original.fileName ?? null,
  }
}

function pendingView(original: { width: number; height: number; fileName?: string | null }): ImageView {
  return {
    status: 'pending',
    width: original.width,
    height: original.height,
    src: null,
    srcSet: null,
    sources: [],
    placeholder: null,
    color: null,
    failure: null,
    fileName: original.fileName ?? null,
  }
}
