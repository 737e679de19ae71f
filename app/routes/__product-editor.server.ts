import { randomUUID } from 'node:crypto'
import type { SubmissionResult } from '@conform-to/react'
import { parseWithZod } from '@conform-to/zod/v4'
import { data, redirect, type ActionFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import type { Admin } from '~/models/admin.server'
import { AlreadyAttachedError } from '~/models/product-images.server'
import { ProductNotFoundError, StaleProductError } from '~/models/product-edits.server'
import { findProductByIdempotencyKey, type Product } from '~/models/product.server'
import {
  moveSavedImage,
  SAVED_DRAFT,
  savedImages,
  type ImagesDraft,
  type MoveAnnouncement,
} from '~/products/saved-images.server'
import { ChangedUploadError, createProduct, MissingUploadError, updateProduct } from '~/products/save.server'
import { keptImages, whileAvailable, type KeptImage } from '~/products/while-available.server'
import { getUploadLimits, readSubmission, type CheckedImage } from '~/uploads/submission.server'
import { requireAdmin, requireSameOrigin } from '~/utils/auth.server'
import { ServiceUnavailableError } from '~/utils/availability.server'
import {
  FORM_FIELDS,
  formatPrice,
  ProductEditorSchema,
  type ProductEditorValues,
  type SavedImage,
} from '~/utils/product-schema'
import { requireProduct, requireProductOrRecent } from '~/utils/require-product.server'

/**
 * Everything the product editor renders, creating or editing: from the loader when it opens, from the
 * action when a submit comes back (a problem, or a Move button without JavaScript).
 */
export interface EditorState {
  /** Conform's answer to the last submit: the values as sent (never a file) and each field's problems. */
  submission: SubmissionResult<string[]> | null
  /** The text fields when the form opens: empty for a new product, as saved when editing. */
  defaultValue: { name: string; price: string; description: string }
  /** Problems with the images, found against storage and the limits (the schema cannot see them). */
  imageErrors: string[]
  /** Issued when the form opens and carried through every submit of it. */
  idempotencyKey: string
  /** New images staged by earlier submits of this form, kept so nobody uploads twice. */
  staged: KeptImage[]
  /** Editing only. */
  saved: {
    productId: string
    /** The version the form was opened at. */
    version: number
    images: SavedImage[]
    announcement: MoveAnnouncement | null
  } | null
}

export type EditorResult = { ok: true; productId: string } | { ok: false; state: EditorState }

/** The product being edited, or none (a new product); `databaseDown` as requireProductOrRecent says. */
export type EditTarget = { product: Product; databaseDown: boolean } | null

/** The editor as it opens: for a new product, or for `product` as it is saved now. */
export async function loadProductEditor(product: Product | null): Promise<EditorState> {
  return {
    submission: null,
    defaultValue: defaultValue(product),
    imageErrors: [],
    idempotencyKey: randomUUID(),
    staged: [],
    saved: product
      ? {
          productId: product.id,
          version: product.version,
          images: await savedImages(product, SAVED_DRAFT),
          announcement: null,
        }
      : null,
  }
}

function defaultValue(product: Product | null): EditorState['defaultValue'] {
  return product
    ? { name: product.name, price: formatPrice(product.priceCents), description: product.description }
    : { name: '', price: '', description: '' }
}

/** The action of both editor routes: new (`/products/new`) and edit (`/products/:productId/edit`). */
export async function action({ request, params }: ActionFunctionArgs) {
  requireSameOrigin(request)
  const admin = await requireAdmin(request)
  const target = params.productId ? await requireProductOrRecent(params.productId) : null
  const result = await submitProductEditor(request, admin, target)
  if (result.ok) return redirect(`/products/${result.productId}`)
  // A Move button without JavaScript comes back as 200; a form with something wrong as 400.
  const { submission, imageErrors } = result.state
  const failed = submission?.status === 'error' || imageErrors.length > 0
  return data(result.state, { status: failed ? 400 : 200 })
}

/**
 * Handles a submitted editor, with or without JavaScript. A Move button (edit, no JavaScript) only
 * reorders and re-renders. Saving checks everything (the schema, then every image against storage and
 * the limits), then creates the product or applies the fields, order, alt texts, removals and new images
 * in one transaction. Any failure comes back with every value and every image that passed.
 */
export async function submitProductEditor(
  request: Request,
  admin: Admin,
  target: EditTarget = null,
): Promise<EditorResult> {
  return whileAvailable(
    admin,
    (progress) => save(request, admin, target, progress),
    (formData, imageErrors, staged) =>
      editorAgain(target, readSentForm(formData, target?.product), { imageErrors, staged }),
  )
}

async function save(
  request: Request,
  admin: Admin,
  target: EditTarget,
  progress: Parameters<typeof readSubmission>[2],
): Promise<EditorResult> {
  const read = await readSubmission(request, admin, progress)
  // The form is read (and its images kept): nothing can be saved until the database answers.
  if (target?.databaseDown) throw new ServiceUnavailableError('database')
  if (!read.ok) return editorAgain(target, null, { imageErrors: [read.error], staged: [] })
  const { formData, staged, imageErrors } = read.submission
  const sent = readSentForm(formData, target?.product)
  const { parsed, draft } = sent
  const { idempotencyKey, move } = sent.controls
  const fail = async (
    errors: string[],
    images: CheckedImage[] = staged,
    overrides: Omit<Parameters<typeof editorAgain>[2], 'imageErrors' | 'staged'> = {},
  ) => editorAgain(target, sent, { imageErrors: errors, staged: await keptImages(images), ...overrides })

  if (target && move) {
    const moved = await moveSavedImage(target.product, draft, move)
    return fail(imageErrors, staged, { images: moved.images, announcement: moved.announcement, quiet: true })
  }
  // The same new-product form again (a double click, a second tab, back and resubmit): land on what it
  // created. An edit finds its own earlier save in updateProduct.
  if (!target && idempotencyKey) {
    const existing = await findProductByIdempotencyKey({ idempotencyKey, adminId: admin.id })
    if (existing) return { ok: true, productId: existing }
  }
  const kept = draft.order.filter((id) => !draft.removed.includes(id))
  const tooMany = tooManyImages(kept.length + staged.length)
  if (tooMany) imageErrors.push(tooMany)
  if (parsed.status !== 'success' || imageErrors.length > 0) return fail(imageErrors)

  const values = parsed.value
  const { key } = sent
  try {
    if (!target) {
      const { productId } = await createProduct({
        adminId: admin.id,
        fields: values,
        images: staged.map((checked) => checked.image),
        idempotencyKey: key,
      })
      return { ok: true, productId }
    }
    await updateProduct({
      productId: target.product.id,
      adminId: admin.id,
      version: values.version ?? target.product.version,
      idempotencyKey: key,
      fields: values,
      images: kept.map((id) => ({ id, altText: values.imageAlt[id] ?? '' })),
      removed: draft.removed,
      added: staged.map((checked) => checked.image),
    })
    return { ok: true, productId: target.product.id }
  } catch (error) {
    if (target && error instanceof StaleProductError) {
      // The images as they are now: the other save's order, alt texts and removals win.
      const current = await requireProduct(target.product.id)
      return fail([error.message], staged, {
        images: await savedImages(current, SAVED_DRAFT),
        version: current.version,
      })
    }
    if (error instanceof ProductNotFoundError)
      throw new Response(error.message, { status: 404, statusText: 'Not found' })
    if (
      error instanceof MissingUploadError ||
      error instanceof ChangedUploadError ||
      error instanceof AlreadyAttachedError
    ) {
      return fail(
        [error.message],
        staged.filter((checked) => checked.image !== error.image),
      )
    }
    throw error
  }
}

/** A message when the images would exceed the per-product limit. */
function tooManyImages(count: number) {
  const { maxImagesPerProduct: max } = getUploadLimits()
  return count > max ? `A product has at most ${max} images; remove ${count - max}.` : null
}

/** A submitted editor, read once: by the whole schema, and in the parts that outlive a wrong field. */
interface SentForm {
  parsed: ReturnType<typeof parseEditor>
  /**
   * The controls that never fail a form, read even when a field is wrong: the idempotency key (a fresh
   * one replaces a malformed one), the version the form was opened at, and a Move button.
   */
  controls: Pick<ProductEditorValues, 'idempotencyKey' | 'move' | 'version'>
  /** The key this submit saves under and the form carries on with: the one sent, else a fresh one. */
  key: string
  /** The saved images as the form sent them, limited to the product's own. */
  draft: ImagesDraft & { order: string[] }
}

const parseEditor = (formData: FormData) => parseWithZod(formData, { schema: ProductEditorSchema })

function readSentForm(formData: FormData, product: Product | undefined): SentForm {
  const controls = parseWithZod(formData, {
    schema: ProductEditorSchema.pick({ idempotencyKey: true, move: true, version: true }),
  })
  const sent = controls.status === 'success' ? controls.value : {}
  return {
    parsed: parseEditor(formData),
    controls: sent,
    key: sent.idempotencyKey ?? randomUUID(),
    draft: imagesDraft(formData, product),
  }
}

/** The saved images' fields, read on their own: a wrong name or price must not lose them. */
const SentImagesSchema = z.object({
  [FORM_FIELDS.imageId]: z.array(z.string()).catch([]),
  [FORM_FIELDS.imageAlt]: z.record(z.string(), z.string().trim()).catch({}),
  [FORM_FIELDS.removeImage]: z.array(z.string()).catch([]),
})

/** The saved images as the form sent them (even when a field is wrong), limited to the product's own. */
function imagesDraft(formData: FormData, product: Product | undefined): ImagesDraft & { order: string[] } {
  const parsed = parseWithZod(formData, { schema: SentImagesSchema })
  const sent = parsed.status === 'success' ? parsed.value : SentImagesSchema.parse({})
  const known = new Set(product?.images.map((image) => image.id))
  return {
    order: [...new Set(sent.imageId)].filter((id) => known.has(id)),
    altTexts: sent.imageAlt,
    removed: sent.removeImage.filter((id) => known.has(id)),
  }
}

/** The editor again, as the submit left it: every value, every image that passed, and what went wrong. */
async function editorAgain(
  target: EditTarget,
  sent: SentForm | null,
  {
    imageErrors,
    staged,
    images,
    announcement = null,
    version,
    quiet = false,
  }: {
    imageErrors: string[]
    staged: KeptImage[]
    /** The saved images to show; by default, as the form sent them. */
    images?: SavedImage[]
    announcement?: MoveAnnouncement | null
    /** The version to carry on with; by default, the one the form was opened at. */
    version?: number
    /** A Move: the values come back, the schema's complaints do not (nothing was saved yet). */
    quiet?: boolean
  },
): Promise<{ ok: false; state: EditorState }> {
  const reply = sent?.parsed.reply() ?? null
  const product = target?.product
  return {
    ok: false,
    state: {
      submission: reply && quiet ? { initialValue: reply.initialValue } : reply,
      defaultValue: defaultValue(product ?? null),
      imageErrors,
      idempotencyKey: sent?.key ?? randomUUID(),
      staged,
      saved: product
        ? {
            productId: product.id,
            version: version ?? sent?.controls.version ?? product.version,
            images: images ?? (await savedImages(product, sent?.draft ?? SAVED_DRAFT)),
            announcement,
          }
        : null,
    },
  }
}
