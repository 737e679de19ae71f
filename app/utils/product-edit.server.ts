import { LRUCache } from 'lru-cache'
import { WALL_CLOCK } from './wall-clock'
import { z } from 'zod'
import type { Admin } from '~/models/admin.server'
import { AlreadyAttachedError } from '~/models/product-images.server'
import { ProductNotFoundError, StaleProductError } from '~/models/product-edits.server'
import { type Product } from '~/models/product.server'
import { ChangedUploadError, MissingUploadError, updateProduct } from '~/products/save.server'
import {
  keptImages,
  newIdempotencyKey,
  submittedIdempotencyKey,
  submittedValues,
  tooManyImages,
  whileAvailable,
  type KeptImage,
} from './product-form.server'
import { readSubmission, type SubmitProgress } from '~/uploads/submission.server'
import {
  altFieldName,
  FORM_FIELDS,
  formatPrice,
  MAX_ALT_TEXT_LENGTH,
  ProductFieldsSchema,
  type ProductFieldErrors,
  type SavedImage,
} from './product-schema'
import { ServiceUnavailableError, UNAVAILABLE, unavailableService, withDeadline } from './availability.server'
import { describeMove, moveImage } from './image-order'
import { hasControlCharacters } from './text'
import { imageViews } from '~/images/view.server'
import { requireProduct } from './require-product.server'

/** Everything the edit form renders: from the database when it opens, from the submit when it fails. */
export interface EditFormState {
  productId: string
  values: { name: string; price: string; description: string }
  version: number
  idempotencyKey: string
  existing: SavedImage[]
  /** New images staged by earlier submits of this form, kept so nobody uploads twice. */
  images: KeptImage[]
  errors: ProductFieldErrors
  /** Alt text problems, by image id. */
  altErrors: Record<string, string>
  /**
   * What a Move button without JavaScript did, for the page's status region, and the Move button to focus
   * on the page that comes back (the same one, or the other one at either end), as `<id>:up|down`.
   */
  announcement: { text: string; focus: string } | null
}

export type EditResult = { ok: true } | { ok: false; state: EditFormState }

/** How long this server may show a product it loaded while the database does not answer. */
const RECENT_PRODUCT_MS = 60 * 60 * 1000
const recentProducts = new LRUCache<string, Product>({ max: 1000, ttl: RECENT_PRODUCT_MS, perf: WALL_CLOCK })

/**
 * The product a route's `:productId` names, as `requireProduct` gives it; while the database does not
 * answer (within 2 s), the one this server last loaded, with `databaseDown`, so that an edit form
 * submitted during an outage comes back with its values instead of an error page. Without such a copy,
 * a 503 page says the database is not answering.
 */
export async function requireProductOrRecent(
  productId: string | undefined,
): Promise<{ product: Product; databaseDown: boolean }> {
  try {
    const product = await withDeadline(requireProduct(productId), 2_000, () => {
      throw new ServiceUnavailableError('database')
    })
    recentProducts.set(product.id, product)
    return { product, databaseDown: false }
  } catch (error) {
    if (unavailableService(error) !== 'database') throw error
    const recent = productId ? recentProducts.get(productId) : undefined
    if (recent) return { product: recent, databaseDown: true }
    throw new Response(UNAVAILABLE.database, { status: 503, statusText: 'Service unavailable' })
  }
}

/** The edit form for a product as it is saved now. */
export async function loadEditForm(product: Product): Promise<EditFormState> {
  return {
    productId: product.id,
    values: {
      name: product.name,
      price: formatPrice(product.priceCents),
      description: product.description,
    },
    version: product.version,
    idempotencyKey: newIdempotencyKey(),
    existing: await existingImages(product, { order: null, altTexts: new Map(), removed: new Set() }),
    images: [],
    errors: {},
    altErrors: {},
    announcement: null,
  }
}

/**
 * Handles a submitted edit form, with or without JavaScript. A Move button (no JavaScript) only
 * reorders and re-renders; saving checks everything, then applies the fields, order, alt texts,
 * removals and new images in one transaction. Any failure re-renders with every value kept.
 */
export async function submitProductEdit(
  request: Request,
  admin: Admin,
  product: Product,
  { databaseDown = false }: { databaseDown?: boolean } = {},
): Promise<EditResult> {
  return whileAvailable(
    admin,
    (progress) => saveProductEdit(request, admin, product, progress, databaseDown),
    async (formData, errors, images) => {
      const { order, altTexts, removed, version, idempotencyKey, values } = readEditForm(formData, product)
      return {
        ok: false,
        state: {
          ...(await loadEditForm(product)),
          values,
          version: Number.isInteger(version) ? version : product.version,
          idempotencyKey,
          existing: await existingImages(product, { order, altTexts, removed }),
          images,
          errors,
        },
      }
    },
  )
}

/** The edit form's own fields as submitted: the saved images' order, alt texts and removals, and the rest. */
function readEditForm(formData: FormData, product: Product) {
  const known = new Set(product.images.map((image) => image.id))
  const order = [...new Set(formData.getAll(FORM_FIELDS.imageId).map(String))].filter((id) => known.has(id))
  const removed = new Set(
    formData
      .getAll(FORM_FIELDS.removeImage)
      .map(String)
      .filter((id) => known.has(id)),
  )
  const altTexts = new Map(order.map((id) => [id, String(formData.get(altFieldName(id)) ?? '').trim()]))
  const version = Number(formData.get(FORM_FIELDS.version))
  const idempotencyKey = submittedIdempotencyKey(formData) ?? newIdempotencyKey()
  return { order, removed, altTexts, version, idempotencyKey, values: submittedValues(formData) }
}

async function saveProductEdit(
  request: Request,
  admin: Admin,
  product: Product,
  progress: SubmitProgress,
  databaseDown: boolean,
): Promise<EditResult> {
  const read = await readSubmission(request, admin, progress)
  // The form is read (and its images kept): nothing can be saved until the database answers.
  if (databaseDown) throw new ServiceUnavailableError('database')
  if (!read.ok)
    return { ok: false, state: { ...(await loadEditForm(product)), errors: { images: [read.error] } } }
  const { formData, staged, imageErrors } = read.submission
  const { order, removed, altTexts, version, idempotencyKey, values } = readEditForm(formData, product)
  // The form as submitted; the image previews are signed only for what the overrides leave out.
  const state = async ({
    existing,
    images,
    ...overrides
  }: Partial<EditFormState> = {}): Promise<EditFormState> => ({
    productId: product.id,
    values,
    version: Number.isInteger(version) ? version : product.version,
    idempotencyKey,
    existing: existing ?? (await existingImages(product, { order, altTexts, removed })),
    images: images ?? (await keptImages(staged)),
    errors: imageErrors.length > 0 ? { images: imageErrors } : {},
    altErrors: {},
    announcement: null,
    ...overrides,
  })

  const move = /^([0-9a-f-]{36}):(up|down)$/.exec(String(formData.get(FORM_FIELDS.move) ?? ''))
  if (move) {
    const [, id = '', direction] = move
    const moved = moveImage(order, id, direction === 'up' ? -1 : 1)
    const existing = await existingImages(product, { order: moved, altTexts, removed })
    const image = existing.find((candidate) => candidate.id === id)
    const position = moved.indexOf(id) + 1
    // The same button again, unless the image reached the end it was moving to.
    const atEdge = direction === 'up' ? position === 1 : position === moved.length
    const focusDirection = atEdge ? (direction === 'up' ? 'down' : 'up') : direction
    const announcement = image
      ? {
          text: `${describeMove(image.label, position, moved.length, moved.indexOf(id) !== order.indexOf(id))} Save to keep the new order.`,
          focus: `${id}:${focusDirection}`,
        }
      : null
    return { ok: false, state: await state({ existing, announcement }) }
  }

  const kept = order.filter((id) => !removed.has(id))
  const tooMany = tooManyImages(kept.length + staged.length)
  if (tooMany) imageErrors.push(tooMany)
  const parsed = ProductFieldsSchema.safeParse(values)
  const errors: ProductFieldErrors = parsed.success ? {} : z.flattenError(parsed.error).fieldErrors
  if (imageErrors.length > 0) errors.images = imageErrors
  const altErrors: Record<string, string> = {}
  for (const id of kept) {
    const alt = altTexts.get(id) ?? ''
    if (alt.length > MAX_ALT_TEXT_LENGTH)
      altErrors[id] = `Keep the alt text under ${MAX_ALT_TEXT_LENGTH} characters.`
    else if (hasControlCharacters(alt))
      altErrors[id] = 'Remove the invisible control characters from the alt text.'
  }
  if (!parsed.success || imageErrors.length > 0 || Object.keys(altErrors).length > 0)
    return { ok: false, state: await state({ errors, altErrors }) }

  try {
    await updateProduct({
      productId: product.id,
      adminId: admin.id,
      version,
      idempotencyKey,
      fields: parsed.data,
      images: kept.map((id) => ({ id, altText: altTexts.get(id) ?? '' })),
      removed: [...removed],
      added: staged.map((checked) => checked.image),
    })
    return { ok: true }
  } catch (error) {
    if (error instanceof StaleProductError) {
      const current = await requireProduct(product.id)
      return {
        ok: false,
        state: await state({
          errors: { images: [error.message] },
          version: current.version,
          // The images as they are now: the other save's order, alt texts and removals win.
          existing: await existingImages(current, { order: null, altTexts: new Map(), removed: new Set() }),
        }),
      }
    }
    if (error instanceof ProductNotFoundError)
      throw new Response(error.message, { status: 404, statusText: 'Not found' })
    if (
      error instanceof MissingUploadError ||
      error instanceof ChangedUploadError ||
      error instanceof AlreadyAttachedError
    ) {
      const others = staged.filter((checked) => checked.image !== error.image)
      return {
        ok: false,
        state: await state({ errors: { images: [error.message] }, images: await keptImages(others) }),
      }
    }
    throw error
  }
}

/**
 * The product's images for the form: in the submitted order (images the form did not know, added
 * meanwhile by someone else, go last) or the saved order, with submitted alt texts and removals.
 */
async function existingImages(
  product: Product,
  {
    order,
    altTexts,
    removed,
  }: { order: string[] | null; altTexts: Map<string, string>; removed: Set<string> },
): Promise<SavedImage[]> {
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
    altText: altTexts.get(image.id) ?? image.altText,
    label: image.altText || `Image ${savedIndex + 1}`,
    removed: removed.has(image.id),
  }))
}
