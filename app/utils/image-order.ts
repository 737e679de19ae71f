/** Reordering a product's images, shared by the edit form in the browser and its action without JavaScript. */

/** The order with the image at `from` moved to `to` (clamped to the list). */
export function moveImageTo<T>(order: readonly T[], from: number, to: number): T[] {
  const target = Math.max(0, Math.min(order.length - 1, to))
  if (from < 0 || from >= order.length || from === target) return [...order]
  const next = [...order]
  const [item] = next.splice(from, 1)
  next.splice(target, 0, item as T)
  return next
}

/** The order with one image moved one place up (-1) or down (1); at either end it stays put. */
export function moveImage<T>(order: readonly T[], item: T, delta: -1 | 1): T[] {
  const from = order.indexOf(item)
  return from < 0 ? [...order] : moveImageTo(order, from, from + delta)
}

/** What a screen reader hears after a move; the browser and the server say the same. */
export function describeMove(label: string, position: number, count: number, moved: boolean) {
  const where = `position ${position} of ${count}`
  if (moved) return `${label} moved to ${where}.`
  if (position === 1) return `${label} is already first.`
  if (position === count) return `${label} is already last.`
  return `${label} stays at ${where}.`
}
