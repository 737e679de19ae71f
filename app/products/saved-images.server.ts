import { imageViews } from '~/images/view.server'
import type { Product } from '~/models/product.server'
import { describeMove, moveImage } from '~/utils/image-order'
import type { SavedImage } from '~/utils/product-schema'

/** The saved images as the edit form last had them: their order, alt texts and removals. */
export interface ImagesDraft {
  /** Null: the saved order. */
  order: string[] | null
  altTexts: Record<string, string>
  removed: string[]
}

export const SAVED_DRAFT: ImagesDraft = { order: null, altTexts: {}, removed: [] }

/** What a Move button without JavaScript did, and the Move button to focus on the page that comes back. */
export interface MoveAnnouncement {
  text: string
  /** `<id>:up|down`: the same button, or the other one once the image reached that end. */
  focus: string
}

/**
 * The product's images for the form: in the draft's order (images the form did not know, added meanwhile
 * by someone else, go last) or the saved order, with the draft's alt texts and removals.
 */
export async function savedImages(product: Product, draft: ImagesDraft): Promise<SavedImage[]> {
  const { order, altTexts, removed } = draft
  const rank = new Map((order ?? []).map((id, i) => [id, i]))
  const sorted = product.images
    .map((image, savedIndex) => ({ image, savedIndex }))
    .sort(
      (a, b) =>
        (rank.get(a.image.id) ?? order?.length ?? 0) - (rank.get(b.image.id) ?? order?.length ?? 0) ||
        a.savedIndex - b.savedIndex,
    )
  const views = await imageViews(sorted.map(({ image }) => image))
  return sorted.map(({ image, savedIndex }, i) => ({
    id: image.id,
    view: views[i]!,
    downloadUrl: `/products/${product.id}/images/${image.id}/original`,
    altText: altTexts[image.id] ?? image.altText,
    label: image.altText || `Image ${savedIndex + 1}`,
    removed: removed.includes(image.id),
  }))
}

/** A Move button pressed without JavaScript: the draft's new order, and what to announce. */
export async function moveSavedImage(
  product: Product,
  draft: ImagesDraft & { order: string[] },
  move: string,
): Promise<{ images: SavedImage[]; announcement: MoveAnnouncement | null }> {
  const [id = '', direction] = move.toLowerCase().split(':')
  const moved = moveImage(draft.order, id, direction === 'up' ? -1 : 1)
  const images = await savedImages(product, { ...draft, order: moved })
  const image = images.find((candidate) => candidate.id === id)
  if (!image) return { images, announcement: null }
  const position = moved.indexOf(id) + 1
  const atEdge = direction === 'up' ? position === 1 : position === moved.length
  const changed = moved.indexOf(id) !== draft.order.indexOf(id)
  return {
    images,
    announcement: {
      text: `${describeMove(image.label, position, moved.length, changed)} Save to keep the new order.`,
      focus: `${id}:${atEdge ? (direction === 'up' ? 'down' : 'up') : direction}`,
    },
  }
}
