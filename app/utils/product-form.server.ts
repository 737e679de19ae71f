import { z } from 'zod'
import { createProduct, MissingUploadError } from '~/models/product.server'
import type { Admin } from '~/models/admin.server'
import { getEnv } from './env.server'
import { KEPT_IMAGE_FIELD, parseImageForm } from './form-upload.server'
import { ProductFieldsSchema, type ProductFieldErrors } from './product-schema'
import { presignedViewUrl } from './storage.server'
import { signUploadRef, verifyUploadRef, type StagedImage } from './upload-ref.server'
import { formatBytes, type UploadLimits } from './upload-limits'

export const IMAGES_FIELD = 'images'
export const REMOVE_IMAGE_FIELD = 'removeImage'

export interface KeptImage {
  ref: string
  fileName: string
  previewUrl: string
  width: number
  height: number
}

export interface ProductFormFailure {
  values: { name: string; price: string; description: string }
  errors: ProductFieldErrors
  images: KeptImage[]
}

export type ProductFormResult = { ok: true; productId: string } | ({ ok: false } & ProductFormFailure)

export function getUploadLimits(): UploadLimits {
  const env = getEnv()
  return { maxImageBytes: env.MAX_IMAGE_BYTES, maxImagesPerProduct: env.MAX_IMAGES_PER_PRODUCT }
}

/**
 * Handles a submitted product form, with or without JavaScript: streams new files to staging, checks
 * the text fields and every image reference, and creates the product. On failure it returns every value
 * and every image that made it to staging, so the admin fixes the mistake without uploading again.
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
  let uploaded: StagedImage[] = []
  let fileErrors: string[] = []
  if ((request.headers.get('Content-Type') ?? '').startsWith('multipart/form-data')) {
    try {
      ;({ formData, uploaded, fileErrors } = await parseImageForm(request, {
        adminId: admin.id,
        fileField: IMAGES_FIELD,
        limits,
      }))
    } catch (error) {
      console.error('Could not parse a product form', error)
      return failure({}, { images: ['The form could not be read; please submit it again.'] }, [])
    }
  } else {
    formData = await request.formData()
  }

  const removed = new Set(formData.getAll(REMOVE_IMAGE_FIELD).map(String))
  const imageErrors = [...fileErrors]
  const kept: StagedImage[] = []
  for (const ref of formData.getAll(KEPT_IMAGE_FIELD).map(String)) {
    if (removed.has(ref)) continue
    const check = verifyUploadRef(ref, admin.id)
    if (check.ok) kept.push(check.image)
    else imageErrors.push('An image added earlier could not be verified; please add it again.')
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
  }
  const parsed = ProductFieldsSchema.safeParse(values)
  const errors: ProductFieldErrors = parsed.success ? {} : z.flattenError(parsed.error).fieldErrors
  if (imageErrors.length > 0) errors.images = imageErrors
  if (!parsed.success || imageErrors.length > 0) return failure(values, errors, images)

  try {
    const productId = await createProduct({ adminId: admin.id, fields: parsed.data, images })
    return { ok: true, productId }
  } catch (error) {
    if (error instanceof MissingUploadError) {
      return failure(
        values,
        { images: [error.message] },
        images.filter((image) => image !== error.image),
      )
    }
    throw error
  }
}

async function failure(
  values: Partial<ProductFormFailure['values']>,
  errors: ProductFieldErrors,
  images: StagedImage[],
): Promise<{ ok: false } & ProductFormFailure> {
  return {
    ok: false,
    values: { name: values.name ?? '', price: values.price ?? '', description: values.description ?? '' },
    errors,
    images: await Promise.all(
      images.map(async (image) => ({
        ref: signUploadRef(image),
        fileName: image.fileName,
        previewUrl: await presignedViewUrl(image.key),
        width: image.width,
        height: image.height,
      })),
    ),
  }
}
