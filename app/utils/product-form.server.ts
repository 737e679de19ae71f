import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { Admin } from '~/models/admin.server'
import {
  AlreadyAttachedError,
  createProduct,
  findProductByIdempotencyKey,
  MissingUploadError,
} from '~/models/product.server'
import { getEnv } from './env.server'
import { parseImageForm } from './form-upload.server'
import { FORM_FIELDS, ProductFieldsSchema, type ProductFieldErrors } from './product-schema'
import { checkStagedUpload, type StagedImage } from './staged-image.server'
import { presignedViewUrl } from './storage.server'
import { verifyUploadRef } from './upload-ref.server'
import { formatBytes, type UploaderSettings, type UploadLimits } from './upload-limits'

export interface KeptImage {
  ref: string
  fileName: string
  previewUrl: string
  width: number
  height: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

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

export function getUploadLimits(): UploadLimits {
  const env = getEnv()
  return { maxImageBytes: env.MAX_IMAGE_BYTES, maxImagesPerProduct: env.MAX_IMAGES_PER_PRODUCT }
}

export function getUploaderSettings(): UploaderSettings {
  const env = getEnv()
  return {
    ...getUploadLimits(),
    multipartThresholdBytes: env.MULTIPART_THRESHOLD_BYTES,
    concurrency: env.UPLOAD_CONCURRENCY,
  }
}

type Checked = { image: StagedImage; ref: string }

/**
 * Handles a submitted product form, with or without JavaScript: streams new files to staging, checks
 * the text fields and every image reference (HMAC, owner, expiry, then the object itself), and creates
 * the product. On failure it returns every value and every image that passed, so the admin fixes the
 * mistake without uploading again. Nothing is written unless everything is valid.
 */
export async function submitProductForm(request: Request, admin: Admin): Promise<ProductFormResult> {
  const limits = getUploadLimits()
  const declared = Number(request.headers.get('Content-Length') ?? 0)
  const ceiling = limits.maxImagesPerProduct * limits.maxImageBytes + 4 * 1024 * 1024
  if (declared > ceiling) {
    return failure(
      {},
      { images: [`The upload is larger than ${formatBytes(ceiling)}; add fewer or smaller images.`] },
      [],
    )
  }

  let formData: FormData
  let uploaded: Checked[] = []
  let fileErrors: string[] = []
  if ((request.headers.get('Content-Type') ?? '').startsWith('multipart/form-data')) {
    try {
      ;({ formData, uploaded, fileErrors } = await parseImageForm(request, {
        adminId: admin.id,
        fileField: FORM_FIELDS.images,
        limits,
      }))
    } catch (error) {
      console.error('Could not parse a product form', error)
      return failure({}, { images: ['The form could not be read; please submit it again.'] }, [])
    }
  } else {
    formData = await request.formData()
  }

  // The same form again (a double click, a second tab, back and resubmit): land on what it created.
  const submittedKey = String(formData.get(FORM_FIELDS.idempotencyKey) ?? '')
  const idempotencyKey = UUID.test(submittedKey) ? submittedKey : newIdempotencyKey()
  if (idempotencyKey === submittedKey) {
    const existing = await findProductByIdempotencyKey({ idempotencyKey, adminId: admin.id })
    if (existing) return { ok: true, productId: existing }
  }

  const removed = new Set(formData.getAll(FORM_FIELDS.removeImage).map(String))
  const imageErrors = [...fileErrors]
  const refs = formData
    .getAll(FORM_FIELDS.keptImage)
    .map(String)
    .filter((token) => !removed.has(token))
  const checks = await Promise.all(
    refs.map(async (token): Promise<Checked | string> => {
      const verified = verifyUploadRef(token, admin.id)
      if (!verified.ok)
        return 'An image reference could not be verified (forged, expired or not yours); please add that image again.'
      const check = await checkStagedUpload(verified.ref, { maxBytes: limits.maxImageBytes })
      return check.ok ? { image: check.image, ref: token } : check.error
    }),
  )
  const kept: Checked[] = []
  for (const check of checks) {
    if (typeof check === 'string') imageErrors.push(check)
    else kept.push(check)
  }
  const images = [...kept, ...uploaded]
  if (images.length > limits.maxImagesPerProduct) {
    imageErrors.push(
      `A product has at most ${limits.maxImagesPerProduct} images; remove ${images.length - limits.maxImagesPerProduct}.`,
    )
  }

  const values = {
    name: String(formData.get('name') ?? ''),
    price: String(formData.get('price') ?? ''),
    description: String(formData.get('description') ?? ''),
    idempotencyKey,
  }
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
    if (error instanceof MissingUploadError || error instanceof AlreadyAttachedError) {
      return failure(
        values,
        { images: [error.message] },
        images.filter((checked) => checked.image !== error.image),
      )
    }
    throw error
  }
}

async function failure(
  values: Partial<ProductFormFailure['values']>,
  errors: ProductFieldErrors,
  images: Checked[],
): Promise<{ ok: false } & ProductFormFailure> {
  return {
    ok: false,
    values: {
      name: values.name ?? '',
      price: values.price ?? '',
      description: values.description ?? '',
      idempotencyKey: values.idempotencyKey ?? '',
    },
    errors,
    images: await Promise.all(
      images.map(async ({ image, ref }) => ({
        ref,
        fileName: image.fileName,
        previewUrl: await presignedViewUrl(image.key),
        width: image.width,
        height: image.height,
      })),
    ),
  }
}
