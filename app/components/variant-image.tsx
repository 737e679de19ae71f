import { useEffect, useRef, useState, type CSSProperties } from 'react'
import { useRevalidator } from '@remix-run/react'
import { thumbHashToDataURL } from 'thumbhash'
import type { ImageView } from '~/images/variants'

const placeholderUrls = new Map<string, string>()

/** The placeholder as a data URL, decoded in the browser (a ThumbHash is ~25 bytes, its PNG ~2 KB). */
function usePlaceholderUrl(hash: string | null) {
  const [url, setUrl] = useState<string | null>(null)
  useEffect(() => {
    if (!hash) return
    let decoded = placeholderUrls.get(hash)
    if (!decoded) {
      decoded = thumbHashToDataURL(Uint8Array.from(atob(hash), (c) => c.charCodeAt(0)))
      placeholderUrls.set(hash, decoded)
    }
    setUrl(decoded)
  }, [hash])
  return url
}

/**
 * An image's width in the product list and the product page's gallery, at each viewport (styles.css:
 * main ≤ 960 px with 24 px padding, columns of at least 200 px, 16 px gaps), for `sizes`.
 */
export const GRID_SIZES =
  '(max-width: 463px) calc(100vw - 48px), (max-width: 679px) calc(50vw - 32px), (max-width: 895px) calc(33.4vw - 27px), 216px'

const REFRESH_FIRST_MS = 1_500
const REFRESH_GROWTH = 1.5
const REFRESH_MAX_MS = 30_000
/** How long a page waits on an image before its placeholder says processing is taking longer than usual. */
export const SLOW_PENDING_MS = 2 * 60_000

/**
 * While some image on the page is still being prepared, asks the loader again, first after 1.5 s and
 * then less and less often (up to every 30 s), until none is pending, so its variants (or its failure)
 * replace the placeholder without a reload. A hidden page does not ask; it asks as soon as it is shown
 * again. Without JavaScript the next visit shows them.
 */
export function useRefreshWhilePending(images: readonly ImageView[]) {
  const { revalidate, state } = useRevalidator()
  const pending = images.some((image) => image.status === 'pending')
  const tries = useRef(0)
  // Runs again after each answer (state goes back to idle), not on every render.
  useEffect(() => {
    if (!pending) {
      tries.current = 0
      return
    }
    if (state !== 'idle') return
    let due = false
    const ask = () => {
      if (!due || document.visibilityState !== 'visible') return
      due = false
      tries.current++
      revalidate()
    }
    const delay = Math.min(REFRESH_FIRST_MS * REFRESH_GROWTH ** tries.current, REFRESH_MAX_MS)
    const timer = setTimeout(() => {
      due = true
      ask()
    }, delay)
    document.addEventListener('visibilitychange', ask)
    return () => {
      clearTimeout(timer)
      document.removeEventListener('visibilitychange', ask)
    }
  }, [pending, state, revalidate])
}

/** True once `pending` has held for SLOW_PENDING_MS on this page (never on the server). */
function useTakingLong(pending: boolean) {
  const [slow, setSlow] = useState(false)
  useEffect(() => {
    setSlow(false)
    if (!pending) return
    const timer = setTimeout(() => setSlow(true), SLOW_PENDING_MS)
    return () => clearTimeout(timer)
  }, [pending])
  return slow
}

/**
 * One product image as pages show it: the variant that fits `sizes` at the screen's density (srcset),
 * with its width and height so nothing shifts, painted first with its dominant colour and (with
 * JavaScript) its blurred placeholder. Before its variants exist only the placeholder shows; if they
 * could not be made, the reason. Never the original.
 */
export function VariantImage({
  image,
  alt,
  sizes,
  loading = 'lazy',
  className,
  draggable,
}: {
  image: ImageView
  alt: string
  sizes: string
  loading?: 'eager' | 'lazy'
  className?: string
  draggable?: boolean
}) {
  const placeholder = usePlaceholderUrl(image.placeholder)
  const slow = useTakingLong(image.status === 'pending' && !image.src)
  const [loaded, setLoaded] = useState(false)
  const img = useRef<HTMLImageElement>(null)
  // An image the browser loaded before hydration fired its load event before React listened.
  useEffect(() => {
    if (img.current?.complete && img.current.naturalWidth > 0) setLoaded(true)
  }, [image.src])

  const paint: CSSProperties = loaded
    ? {}
    : {
        backgroundColor: image.color ?? undefined,
        backgroundImage: placeholder ? `url(${placeholder})` : undefined,
        backgroundSize: 'cover',
      }
  if (image.status === 'failed') {
    return (
      <div
        className={`image-failed ${className ?? ''}`}
        role="img"
        aria-label={`${alt} (could not be processed)`}
        data-image-state="failed"
      >
        <strong>{image.fileName ?? 'This image'} could not be shown.</strong> <span>{image.failure}</span>
      </div>
    )
  }
  if (!image.src) {
    return (
      <div
        className={`image-pending ${className ?? ''}`}
        role="img"
        aria-label={
          slow ? `${alt} (still being prepared, taking longer than usual)` : `${alt} (being prepared)`
        }
        data-image-state="pending"
        style={{ ...paint, aspectRatio: `${image.width} / ${image.height}` }}
      >
        {slow ? (
          // On its own backdrop: readable on any dominant colour.
          <span className="slow-note">Still being prepared — this is taking longer than usual.</span>
        ) : null}
      </div>
    )
  }
  const tag = (
    <img
      ref={img}
      className={className}
      src={image.src}
      srcSet={image.srcSet ?? undefined}
      sizes={sizes}
      alt={alt}
      width={image.width}
      height={image.height}
      loading={loading}
      decoding="async"
      draggable={draggable}
      data-image-state="ready"
      data-placeholder={placeholder && !loaded ? 'painted' : undefined}
      style={paint}
      onLoad={() => setLoaded(true)}
    />
  )
  if (image.sources.length === 0) return tag
  return (
    <picture>
      {image.sources.map((source) => (
        <source key={source.type} type={source.type} srcSet={source.srcSet} sizes={sizes} />
      ))}
      {tag}
    </picture>
  )
}
