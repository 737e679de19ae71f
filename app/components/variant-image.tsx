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

const REFRESH_MS = 1_500
const REFRESH_TRIES = 40

/**
 * While some image on the page is still being prepared, asks the loader again now and then (for a
 * minute at most, only while the page is visible), so its variants replace the placeholder without a
 * reload. Without JavaScript the next visit shows them.
 */
export function useRefreshWhilePending(images: readonly ImageView[]) {
  const { revalidate, state } = useRevalidator()
  const pending = images.some((image) => image.status === 'pending')
  const tries = useRef(0)
  useEffect(() => {
    if (!pending || state !== 'idle' || tries.current >= REFRESH_TRIES) return
    const timer = setTimeout(() => {
      if (document.visibilityState !== 'visible') return
      tries.current++
      revalidate()
    }, REFRESH_MS)
    return () => clearTimeout(timer)
  }, [pending, state, revalidate, images])
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
        aria-label={`${alt} (being prepared)`}
        data-image-state="pending"
        style={{ ...paint, aspectRatio: `${image.width} / ${image.height}` }}
      />
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
