import { VariantImage } from './variant-image'
import type { ImageView } from '~/images/variants'
import { Form, useNavigation } from '@remix-run/react'
import { lazy, Suspense, useEffect, useState, type ReactNode, useRef } from 'react'
import type { ProductFieldErrors, SavedImage } from '~/utils/product-schema'
import { FORM_FIELDS, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH, PRICE_PATTERN } from '~/utils/product-schema'
import { formatBytes, type UploaderSettings } from '~/uploads/limits'
import { ALLOWED_IMAGE_TYPES, ALLOWED_TYPES_LABEL } from '~/uploads/image-types'
import { ExistingImages } from './existing-images'
import type { UploaderStatus } from '~/components/uploader/image-uploader.client'

// Loaded only in the browser, after hydration, and only by pages with a product form.
const ImageUploader = lazy(() => import('~/components/uploader/image-uploader.client'))

export interface ProductFormImage {
  ref: string
  fileName: string
  preview: ImageView | null
  width: number | null
  height: number | null
}

export interface ProductFormProps {
  values?: { name: string; price: string; description: string; idempotencyKey?: string }
  /** Issued by the loader; a failed submit keeps the one it was sent with. */
  idempotencyKey: string
  errors?: ProductFieldErrors
  images?: ProductFormImage[]
  uploader: UploaderSettings
  submitLabel: string
  /** Edit form only: the product's saved images and the version the form was opened at. */
  saved?: {
    images: SavedImage[]
    altErrors: Record<string, string>
    announcement: { text: string; focus: string } | null
    version: number
  }
}

/**
 * The product form. Without JavaScript it is a plain multipart form whose files stream through the
 * server; images kept from a failed submit ride along as signed references with a preview each.
 */
export function ProductForm({
  values,
  idempotencyKey,
  errors = {},
  images = [],
  uploader,
  submitLabel,
  saved,
}: ProductFormProps) {
  const navigation = useNavigation()
  const submitting = navigation.state === 'submitting'
  const problems = Object.entries(errors).flatMap(([field, messages]) =>
    (messages ?? []).map((message) => ({ field, message })),
  )
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])
  // `autoFocus` does it without JavaScript; React focuses only form controls by it, so the summary of a
  // submit that failed in place is focused here, once for each answer.
  const summary = useRef<HTMLDivElement>(null)
  const hasProblems = problems.length > 0
  useEffect(() => {
    if (hasProblems) summary.current?.focus()
  }, [errors, hasProblems])
  const [status, setStatus] = useState<UploaderStatus>({ uploading: 0, failed: 0 })
  const blocked = status.uploading > 0 || status.failed > 0
  // Saved images ticked for removal make room for new ones in the uploader.
  const [savedCount, setSavedCount] = useState(
    () => saved?.images.filter((image) => !image.removed).length ?? 0,
  )
  const addingMore = images.length + savedCount > 0
  const fileInput = (
    <Field
      id="images"
      label={saved ? 'Add images' : 'Images'}
      hint={`${addingMore ? 'Add more images. ' : ''}${ALLOWED_TYPES_LABEL}; up to ${uploader.maxImagesPerProduct} images of ${formatBytes(uploader.maxImageBytes)} each.`}
      errors={errors.images}
    >
      <input
        id="images"
        name={FORM_FIELDS.images}
        type="file"
        multiple
        accept={ALLOWED_IMAGE_TYPES.join(',')}
        {...describedBy('images', errors.images, true)}
      />
    </Field>
  )
  return (
    <Form method="post" encType="multipart/form-data">
      {saved ? (
        // Enter in a text field presses a form's first submit button: this one, not a Move button. Disabled
        // like the visible one, so Enter cannot save while images are still uploading.
        <button
          type="submit"
          className="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
          disabled={submitting || blocked}
        >
          {submitLabel}
        </button>
      ) : null}
      {saved ? <input type="hidden" name={FORM_FIELDS.version} value={saved.version} /> : null}
      <input
        type="hidden"
        name={FORM_FIELDS.idempotencyKey}
        value={values?.idempotencyKey || idempotencyKey}
      />
      {problems.length > 0 ? (
        // Focus comes here after a failed submit (with or without JavaScript); each problem links to its field.
        <div className="errors" role="alert" id="form-errors" tabIndex={-1} autoFocus ref={summary}>
          <strong>
            Please fix {problems.length === 1 ? 'this problem' : `these ${problems.length} problems`}:
          </strong>
          <ul>
            {problems.map(({ field, message }, i) => (
              <li key={i}>
                <a href={`#${field === 'images' && hydrated ? 'images-label' : field}`}>{message}</a>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <Field id="name" label="Name" errors={errors.name}>
        <input
          id="name"
          name="name"
          type="text"
          required
          maxLength={MAX_NAME_LENGTH}
          defaultValue={values?.name}
          {...describedBy('name', errors.name)}
        />
      </Field>

      <Field id="price" label="Price" hint="In dollars, for example 19.99." errors={errors.price}>
        <input
          id="price"
          name="price"
          type="text"
          inputMode="decimal"
          required
          pattern={PRICE_PATTERN}
          defaultValue={values?.price}
          {...describedBy('price', errors.price, true)}
        />
      </Field>

      <Field id="description" label="Description" errors={errors.description}>
        <textarea
          id="description"
          name="description"
          maxLength={MAX_DESCRIPTION_LENGTH}
          defaultValue={values?.description}
          {...describedBy('description', errors.description)}
        />
      </Field>

      {saved && saved.images.length > 0 ? (
        <ExistingImages
          images={saved.images}
          altErrors={saved.altErrors}
          announcement={saved.announcement}
          onKeptCountChange={setSavedCount}
        />
      ) : null}

      {images.length > 0 ? (
        <fieldset className="field">
          <legend>{saved ? 'New images already uploaded' : 'Images already uploaded'}</legend>
          <ul className="kept-images">
            {images.map((image, i) => (
              <li key={image.ref}>
                <input type="hidden" name={FORM_FIELDS.keptImage} value={image.ref} />
                {image.preview ? (
                  <VariantImage
                    image={image.preview}
                    alt={`Uploaded image ${i + 1}: ${image.fileName}`}
                    sizes="(max-width: 600px) 45vw, 160px"
                    className="square"
                  />
                ) : (
                  <div
                    className="image-pending square"
                    role="img"
                    aria-label={`Uploaded image ${i + 1}: ${image.fileName}`}
                  />
                )}
                <div>{image.fileName}</div>
                <label>
                  <input type="checkbox" name={FORM_FIELDS.removeImage} value={image.ref} /> Remove
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      ) : null}

      {hydrated ? (
        <Suspense fallback={fileInput}>
          <div className="field">
            <span className="label" id="images-label">
              {saved ? 'Add images' : 'Images'}
            </span>
            {errors.images?.map((error, i) => (
              <p className="error" key={i}>
                {error}
              </p>
            ))}
            <ImageUploader
              settings={uploader}
              keptCount={images.length + savedCount}
              fieldName={FORM_FIELDS.keptImage}
              onStatusChange={setStatus}
            />
          </div>
        </Suspense>
      ) : (
        fileInput
      )}

      <p className="upload-status" id="upload-status" role="status" aria-live="polite">
        {describeStatus(status)}
      </p>
      <button type="submit" disabled={submitting || blocked}>
        {submitting ? 'Saving…' : submitLabel}
      </button>
    </Form>
  )
}

function describeStatus({ uploading, failed }: UploaderStatus) {
  const parts = []
  if (uploading > 0) parts.push(`${uploading} ${uploading === 1 ? 'image is' : 'images are'} still uploading`)
  if (failed > 0)
    parts.push(
      `${failed} ${failed === 1 ? 'image' : 'images'} failed: retry or remove ${failed === 1 ? 'it' : 'them'}`,
    )
  return parts.length > 0 ? `${parts.join('; ')}. You can save once every image is uploaded.` : ''
}

function Field({
  id,
  label,
  hint,
  errors,
  children,
}: {
  id: string
  label: string
  hint?: string
  errors?: string[]
  children: ReactNode
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint ? (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {children}
      {errors?.map((error, i) => (
        <p className="error" id={i === 0 ? `${id}-error` : undefined} key={i}>
          {error}
        </p>
      ))}
    </div>
  )
}

function describedBy(id: string, errors: string[] | undefined, hasHint = false) {
  const ids = [hasHint ? `${id}-hint` : null, errors?.length ? `${id}-error` : null].filter(Boolean)
  return {
    'aria-invalid': errors?.length ? true : undefined,
    'aria-describedby': ids.length > 0 ? ids.join(' ') : undefined,
  }
}
