import { VariantImage } from './variant-image'
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react'
import { describeMove, moveImage, moveImageTo } from '~/utils/image-order'
import { altFieldName, FORM_FIELDS, MAX_ALT_TEXT_LENGTH, type SavedImage } from '~/utils/product-schema'

const MOVES = [
  { direction: 'up', delta: -1, arrow: '↑' },
  { direction: 'down', delta: 1, arrow: '↓' },
] as const

type Grab = { id: string; from: number; by: 'keyboard' | 'pointer' }

// Harmless before hydration (and on the server), where layout effects would only warn.
const useIsomorphicLayoutEffect = typeof document === 'undefined' ? useEffect : useLayoutEffect

/**
 * A product's saved images in the edit form: each with its alt text, a Remove box and Move up / Move
 * down. Without JavaScript the Move buttons submit the form, which comes back reordered. With it they
 * reorder in place, and each image also gets a handle to drag (pointer) or to pick up with Space and
 * move with the arrow keys. Every move is announced in a live region; the order is what the hidden
 * inputs submit, and it is saved with the rest of the form.
 */
export function ExistingImages({
  images,
  altErrors,
  announcement: initialAnnouncement,
  onKeptCountChange,
}: {
  images: SavedImage[]
  altErrors: Record<string, string>
  announcement: { text: string; focus: string } | null
  /** Told how many images stay (not ticked for removal) whenever that changes. */
  onKeptCountChange?: (count: number) => void
}) {
  const byId = new Map(images.map((image) => [image.id, image]))
  const [order, setOrder] = useState(() => images.map((image) => image.id))
  const [removed, setRemoved] = useState(
    () => new Set(images.filter((image) => image.removed).map((image) => image.id)),
  )
  const [announcement, setAnnouncement] = useState(initialAnnouncement?.text ?? '')
  const [hydrated, setHydrated] = useState(false)
  const [grab, setGrab] = useState<Grab | null>(null)
  const list = useRef<HTMLUListElement>(null)
  // The control to focus again after React has moved the image's element (moving a node drops focus).
  const refocus = useRef<string | null>(null)
  useEffect(() => setHydrated(true), [])

  useIsomorphicLayoutEffect(() => {
    const selector = refocus.current
    refocus.current = null
    if (selector) list.current?.querySelector<HTMLElement>(selector)?.focus()
  }, [order])

  const labelOf = (id: string) => byId.get(id)?.label ?? 'Image'
  const primaryId = order.find((id) => !removed.has(id))

  function reorder(next: string[], focusSelector: string | null, message: string) {
    refocus.current = focusSelector
    setOrder(next)
    setAnnouncement(message)
  }

  function moveByButton(id: string, delta: -1 | 1) {
    const next = moveImage(order, id, delta)
    const moved = next.indexOf(id) !== order.indexOf(id)
    reorder(
      next,
      `[data-move="${id}:${delta < 0 ? 'up' : 'down'}"]`,
      describeMove(labelOf(id), next.indexOf(id) + 1, next.length, moved),
    )
  }

  function onHandleKeyDown(event: KeyboardEvent<HTMLButtonElement>, id: string) {
    const index = order.indexOf(id)
    const handle = `[data-handle="${id}"]`
    if (event.key === ' ' || event.key === 'Enter') {
      event.preventDefault()
      if (grab?.id === id) {
        setGrab(null)
        setAnnouncement(`${labelOf(id)} dropped at position ${index + 1} of ${order.length}.`)
      } else {
        setGrab({ id, from: index, by: 'keyboard' })
        setAnnouncement(
          `${labelOf(id)} picked up, at position ${index + 1} of ${order.length}. Use the arrow keys to move it, Space to drop it, Escape to cancel.`,
        )
      }
    } else if (grab?.id === id && /^Arrow(Up|Down|Left|Right)$/.test(event.key)) {
      event.preventDefault()
      const delta = event.key === 'ArrowUp' || event.key === 'ArrowLeft' ? -1 : 1
      const next = moveImage(order, id, delta)
      const moved = next.indexOf(id) !== index
      reorder(next, handle, describeMove(labelOf(id), next.indexOf(id) + 1, next.length, moved))
    } else if (grab?.id === id && event.key === 'Escape') {
      event.preventDefault()
      const next = moveImageTo(order, index, grab.from)
      setGrab(null)
      reorder(
        next,
        handle,
        `Reordering cancelled. ${labelOf(id)} is back at position ${grab.from + 1} of ${order.length}.`,
      )
    }
  }

  function onHandlePointerDown(event: PointerEvent<HTMLButtonElement>, id: string) {
    if (event.button !== 0) return
    event.currentTarget.setPointerCapture(event.pointerId)
    setGrab({ id, from: order.indexOf(id), by: 'pointer' })
    setAnnouncement(`${labelOf(id)} picked up.`)
  }

  function onHandlePointerMove(event: PointerEvent<HTMLButtonElement>, id: string) {
    if (grab?.id !== id || grab.by !== 'pointer') return
    const over = document
      .elementFromPoint(event.clientX, event.clientY)
      ?.closest<HTMLElement>('[data-image-id]')?.dataset.imageId
    if (!over || over === id) return
    const next = moveImageTo(order, order.indexOf(id), order.indexOf(over))
    refocus.current = `[data-handle="${id}"]`
    setOrder(next)
  }

  function onHandlePointerUp(event: PointerEvent<HTMLButtonElement>, id: string, cancelled: boolean) {
    if (grab?.id !== id || grab.by !== 'pointer') return
    event.currentTarget.releasePointerCapture(event.pointerId)
    setGrab(null)
    if (cancelled) {
      reorder(moveImageTo(order, order.indexOf(id), grab.from), null, 'Reordering cancelled.')
      return
    }
    const position = order.indexOf(id) + 1
    setAnnouncement(
      position === grab.from + 1
        ? `${labelOf(id)} dropped where it was, at position ${position} of ${order.length}.`
        : `${labelOf(id)} moved to position ${position} of ${order.length}.`,
    )
  }

  return (
    <fieldset className="field">
      <legend>Images</legend>
      <p className="hint" id="reorder-hint">
        The first image is the primary one, shown in lists. New images are added after these.
        {hydrated ? ' Drag a handle, or focus it and press Space, then the arrow keys.' : null}
      </p>
      <p className="visually-hidden" role="status" aria-live="polite" id="reorder-status">
        {announcement}
      </p>
      <ul className="existing-images" ref={list} aria-label="Saved images, in order">
        {order.map((id, index) => {
          const image = byId.get(id)!
          const isRemoved = removed.has(id)
          const altId = `alt-${id}`
          return (
            <li
              key={id}
              data-image-id={id}
              className={[grab?.id === id ? 'grabbed' : '', isRemoved ? 'removed' : '']
                .filter(Boolean)
                .join(' ')}
            >
              <input type="hidden" name={FORM_FIELDS.imageId} value={id} />
              <div className="image-head">
                {hydrated ? (
                  <button
                    type="button"
                    className="handle"
                    data-handle={id}
                    aria-label={`Reorder ${image.label}`}
                    aria-describedby="reorder-hint"
                    aria-pressed={grab?.id === id}
                    onKeyDown={(event) => onHandleKeyDown(event, id)}
                    onPointerDown={(event) => onHandlePointerDown(event, id)}
                    onPointerMove={(event) => onHandlePointerMove(event, id)}
                    onPointerUp={(event) => onHandlePointerUp(event, id, false)}
                    onPointerCancel={(event) => onHandlePointerUp(event, id, true)}
                    onBlur={() => {
                      if (grab?.by === 'keyboard' && grab.id === id && !refocus.current) setGrab(null)
                    }}
                  >
                    ⠿
                  </button>
                ) : null}
                <span className="position">
                  {index + 1}
                  {id === primaryId ? <span className="badge">Primary</span> : null}
                </span>
              </div>
              <VariantImage
                image={image.view}
                alt={image.altText || image.label}
                sizes="(max-width: 503px) calc(100vw - 64px), 216px"
                loading={index < 6 ? 'eager' : 'lazy'}
                className="square"
                draggable={false}
              />
              <a href={image.downloadUrl} download>
                Download original<span className="visually-hidden"> of {image.label}</span>
              </a>
              <label htmlFor={altId}>Alt text for {image.label}</label>
              <input
                id={altId}
                name={altFieldName(id)}
                type="text"
                maxLength={MAX_ALT_TEXT_LENGTH}
                defaultValue={image.altText}
                placeholder="Describe the image"
                aria-invalid={altErrors[id] ? true : undefined}
                aria-describedby={altErrors[id] ? `${altId}-error` : undefined}
              />
              {altErrors[id] ? (
                <p className="error" id={`${altId}-error`}>
                  {altErrors[id]}
                </p>
              ) : null}
              <div className="image-actions">
                {MOVES.map(({ direction, delta, arrow }) => (
                  // Without JavaScript these submit the form; with it they move the image in place.
                  <button
                    key={direction}
                    type="submit"
                    className="secondary"
                    name={FORM_FIELDS.move}
                    value={`${id}:${direction}`}
                    data-move={`${id}:${direction}`}
                    aria-disabled={index + delta < 0 || index + delta >= order.length || undefined}
                    // After a move without JavaScript the page comes back focused where the admin was,
                    // and the focused button is described by what the move did.
                    autoFocus={initialAnnouncement?.focus === `${id}:${direction}`}
                    aria-describedby={
                      initialAnnouncement?.focus === `${id}:${direction}` ? 'reorder-status' : undefined
                    }
                    onClick={(event) => {
                      event.preventDefault()
                      moveByButton(id, delta)
                    }}
                  >
                    {/* Named by its text (WCAG 2.5.3, label in name): "Move Image 2 up". */}
                    <span aria-hidden="true">{arrow}</span> Move{' '}
                    <span className="visually-hidden">{image.label} </span>
                    {direction}
                  </button>
                ))}
                <label>
                  <input
                    type="checkbox"
                    name={FORM_FIELDS.removeImage}
                    value={id}
                    checked={isRemoved}
                    aria-label={`Remove ${image.label}`}
                    onChange={(event) => {
                      const next = new Set(removed)
                      if (event.target.checked) next.add(id)
                      else next.delete(id)
                      setRemoved(next)
                      onKeptCountChange?.(images.length - next.size)
                      setAnnouncement(
                        event.target.checked
                          ? `${image.label} will be removed when you save.`
                          : `${image.label} will be kept.`,
                      )
                    }}
                  />{' '}
                  Remove
                </label>
              </div>
            </li>
          )
        })}
      </ul>
    </fieldset>
  )
}
