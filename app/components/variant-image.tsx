import { useEffect, useRef, useState, type CSSProperties } from 'react'
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
        <strong>Image could not be processed.</strong> <span>{image.failure}</span>
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
      data-placeholder={placeholder ? 'painted' : undefined}
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
