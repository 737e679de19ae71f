import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { Admin } from '~/models/admin.server'
import { AlreadyAttachedError } from '~/models/product-images.server'
import { findProductByIdempotencyKey } from '~/models/product.server'
import { createProduct, ChangedUploadError, MissingUploadError } from '~/products/save.server'
import { getEnv } from './env.server'
import {
  getUploadLimits,
  readSubmission,
  type CheckedImage,
  type SubmitProgress,
} from '~/uploads/submission.server'
import { FORM_FIELDS, isUuid, ProductFieldsSchema, type ProductFieldErrors } from './product-schema'
import { stagedImageViews } from '~/images/start.server'
import type { ImageView } from '~/images/variants'
import { verifyUploadRef } from '~/uploads/refs.server'
import {
  checkServices,
  UNAVAILABLE,
  unavailableService,
  withDeadline,
  type Service,
} from './availability.server'

export interface KeptImage {
  ref: string
  fileName: string
  /** Its variants or placeholder (never the staged original); null when the database cannot say. */
  preview: ImageView | null
  /** Unknown when storage could not be asked (the form came back because it did not answer). */
  width: number | null
  height: number | null
}

/** A key for one product form; the page carries it in a hidden input through every submit. */
export function newIdempotencyKey() {
  return randomUUID()
}

export interface ProductFormFailure {
  values: { name: string; price: string; description: string; idempotencyKey: string }
  errors: ProductFieldErrors
  images: KeptImage[]
}

export type ProductFormResult = { ok: true; productId: string } | ({ ok: false } & ProductFormFailure)

/** The text fields as submitted, for re-rendering the form. */
export function submittedValues(formData: FormData) {
  return {
    name: String(formData.get('name') ?? ''),
    price: String(formData.get('price') ?? ''),
    description: String(formData.get('description') ?? ''),
  }
}

/** The form's idempotency key if it sent a well-formed one, else null. */
export function submittedIdempotencyKey(formData: FormData) {
  const key = String(formData.get(FORM_FIELDS.idempotencyKey) ?? '')
  return isUuid(key) ? key.toLowerCase() : null
}

/** A message when the images would exceed the per-product limit. */
export function tooManyImages(count: number) {
  const { maxImagesPerProduct: max } = getUploadLimits()
  return count > max ? `A product has at most ${max} images; remove ${count - max}.` : null
}

/**
 * Handles a submitted new-product form, with or without JavaScript, and creates the product. On
 * failure it returns every value and every image that passed, so the admin fixes the mistake without
 * uploading again. Nothing is written unless everything is valid.
 */
export async function submitProductForm(request: Request, admin: Admin): Promise<ProductFormResult> {
  return whileAvailable(
    admin,
    (progress) => saveProductForm(request, admin, progress),
    async (formData, errors, images) =>
      failureWith(
        { ...submittedValues(formData), idempotencyKey: submittedIdempotencyKey(formData) ?? '' },
        errors,
        images,
      ),
  )
}

/**
 * `work`, unless S3 or PostgreSQL fails or keeps it waiting past SUBMIT_TIMEOUT_SECONDS: then the form
 * as far as it was read, built by `giveBack`, with a message naming the service that did not answer and
 * every image kept (those checked already, and every reference the form carried). A save that lands
 * after the answer is found again by the form's idempotency key when the admin resubmits.
 */
export async function whileAvailable<T>(
  admin: Admin,
  work: (progress: SubmitProgress) => Promise<T>,
  giveBack: (formData: FormData, errors: ProductFieldErrors, images: KeptImage[]) => Promise<T>,
): Promise<T> {
  const progress: SubmitProgress = {}
  const answer = async (service: Service) => {
    const formData = progress.formData ?? new FormData()
    const checked = progress.staged ?? []
    const known = new Set(checked.map((c) => c.ref))
    const others = formData
      .getAll(FORM_FIELDS.keptImage)
      .map(String)
      .filter((token) => !known.has(token))
      .flatMap((token) => {
        const verified = verifyUploadRef(token, admin.id)
        return verified.ok ? [{ token, ref: verified.ref }] : []
      })
    const images = [
      ...(await keptImages(checked)),
      ...(await Promise.all(
        others.map(({ token, ref }) => ({
          ref: token,
          fileName: ref.fileName,
          preview: null,
          width: null,
          height: null,
        })),
      )),
    ]
    return giveBack(formData, { images: [UNAVAILABLE[service]] }, images)
  }
  // A slow link may take minutes to send a no-JavaScript form's files: the clock starts once they are in.
  const received = new Promise<void>((resolve) => (progress.received = resolve))
  try {
    return await withDeadline(
      work(progress),
      getEnv().SUBMIT_TIMEOUT_SECONDS * 1000,
      async () => {
        const status = await checkServices()
        return answer(status.database === 'unavailable' ? 'database' : 'storage')
      },
      received,
    )
  } catch (error) {
    const service = unavailableService(error)
    if (!service) throw error
    console.error(`A submit found ${service} unavailable`, error)
    return answer(service)
  }
}

async function saveProductForm(
  request: Request,
  admin: Admin,
  progress: SubmitProgress,
): Promise<ProductFormResult> {
  const read = await readSubmission(request, admin, progress)
  if (!read.ok) return failure({}, { images: [read.error] }, [])
  const { formData, staged: images, imageErrors } = read.submission

  // The same form again (a double click, a second tab, back and resubmit): land on what it created.
  const submittedKey = submittedIdempotencyKey(formData)
  const idempotencyKey = submittedKey ?? newIdempotencyKey()
  if (submittedKey) {
    const existing = await findProductByIdempotencyKey({ idempotencyKey, adminId: admin.id })
    if (existing) return { ok: true, productId: existing }
  }

  const tooMany = tooManyImages(images.length)
  if (tooMany) imageErrors.push(tooMany)
  const values = { ...submittedValues(formData), idempotencyKey }
  const parsed = ProductFieldsSchema.safeParse(values)
  const errors: ProductFieldErrors = parsed.success ? {} : z.flattenError(parsed.error).fieldErrors
  if (imageErrors.length > 0) errors.images = imageErrors
  if (!parsed.success || imageErrors.length > 0) return failure(values, errors, images)

  try {
    const { productId } = await createProduct({
      adminId: admin.id,
      fields: parsed.data,
      images: images.map((checked) => checked.image),
      idempotencyKey,
    })
    return { ok: true, productId }
  } catch (error) {
    if (
      error instanceof MissingUploadError ||
      error instanceof ChangedUploadError ||
      error instanceof AlreadyAttachedError
    ) {
      return failure(
        values,
        { images: [error.message] },
        images.filter((checked) => checked.image !== error.image),
      )
    }
    throw error
  }
}

/** Preview data for staged images a form keeps across submits. */
export async function keptImages(images: CheckedImage[]): Promise<KeptImage[]> {
  const previews = await stagedImageViews(images.map(({ image }) => image))
  return images.map(({ image, ref }, i) => ({
    ref,
    fileName: image.fileName,
    preview: previews[i] ?? null,
    width: image.width,
    height: image.height,
  }))
}

async function failure(
  values: Partial<ProductFormFailure['values']>,
  errors: ProductFieldErrors,
  images: CheckedImage[],
): Promise<{ ok: false } & ProductFormFailure> {
  return failureWith(values, errors, await keptImages(images))
}

function failureWith(
  values: Partial<ProductFormFailure['values']>,
  errors: ProductFieldErrors,
  images: KeptImage[],
): { ok: false } & ProductFormFailure {
  return {
    ok: false,
    values: {
      name: values.name ?? '',
      price: values.price ?? '',
      description: values.description ?? '',
      idempotencyKey: values.idempotencyKey ?? '',
    },
    errors,
    images,
  }
}
