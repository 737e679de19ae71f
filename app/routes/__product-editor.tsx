import { getFormProps, getInputProps, getTextareaProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, useNavigation } from '@remix-run/react'
import { lazy, Suspense, useEffect, useRef, useState } from 'react'
import { ExistingImages } from '~/components/existing-images'
import { FieldErrors } from '~/components/field-errors'
import { SaveButton, UploadStatusLine, useUploaderStatusStore } from '~/components/uploader/upload-status'
import { VariantImage } from '~/components/variant-image'
import { ACCEPTED_FILE_TYPES, ALLOWED_TYPES_LABEL } from '~/uploads/image-types'
import { formatBytes, type UploaderSettings } from '~/uploads/limits'
import { altFieldName, FORM_FIELDS, ProductEditorSchema } from '~/utils/product-schema'
import type { EditorState } from './__product-editor.server'

// Loaded only in the browser, after hydration, and only by pages with a product editor.
const ImageUploader = lazy(() => import('~/components/uploader/image-uploader.client'))

const constraint = getZodConstraint(ProductEditorSchema)
/** The name of the button Conform submits with to check a field (a name it reserves). */
const INTENT = '__intent__'

/**
 * The product editor, for a new product and for an existing one (`state.saved`). Conform runs the form
 * on ProductEditorSchema: in the browser as the admin types, and in the action. Without JavaScript it is
 * a plain multipart form whose files stream through the server; images kept from a failed submit ride
 * along as signed references with a preview each.
 */
export function ProductEditor({
  state,
  uploader,
  submitLabel,
}: {
  state: EditorState
  uploader: UploaderSettings
  submitLabel: string
}) {
  const { saved, staged } = state
  const submitting = useNavigation().state === 'submitting'
  const [form, fields] = useForm({
    id: 'product-editor',
    lastResult: state.submission,
    defaultValue: state.defaultValue,
    constraint,
    // The browser's own checks until the page is hydrated (or without JavaScript); Conform's after.
    defaultNoValidate: false,
    shouldValidate: 'onBlur',
    shouldRevalidate: 'onInput',
    onValidate: ({ formData }) => parseWithZod(formData, { schema: ProductEditorSchema }),
  })
  const [hydrated, setHydrated] = useState(false)
  useEffect(() => setHydrated(true), [])

  // Each problem once, in the form's order, linked to its field: the schema's (from the browser or the
  // action) and the images' (from the action, which checks them against storage).
  const fieldErrors = form.allErrors
  const problems = [
    ...Object.entries(fieldErrors).flatMap(([name, messages]) =>
      messages.map((message) => ({ target: targetOf(name, hydrated), message })),
    ),
    ...state.imageErrors.map((message) => ({ target: targetOf(FORM_FIELDS.images, hydrated), message })),
  ]
  // Only after a submit (blurring a field marks that field alone), and focused then: `autoFocus` does it
  // without JavaScript; a submit the browser refused, or an answer from the action, does it here.
  const [attempts, setAttempts] = useState(0)
  const shown =
    problems.length > 0 && (attempts > 0 || state.submission !== null || state.imageErrors.length > 0)
  const summary = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (shown) summary.current?.focus()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per submit, not per keystroke
  }, [attempts, state])

  // The uploader's status changes as each file starts and finishes: only the status line and the save
  // buttons follow it, not the whole form.
  const uploads = useUploaderStatusStore()
  // Saved images ticked for removal make room for new ones in the uploader.
  const keptSaved = () => saved?.images.filter((image) => !image.removed).length ?? 0
  const [savedCount, setSavedCount] = useState(keptSaved)
  // Each answer from the action takes over what the page held: the images it kept are listed as staged
  // (the Dashboard starts empty again) and the saved images are shown as it sent them.
  const [answer, setAnswer] = useState({ state, generation: 0 })
  if (answer.state !== state) {
    setAnswer({ state, generation: answer.generation + 1 })
    setSavedCount(keptSaved())
  }
  const addingMore = staged.length + savedCount > 0
  const imagesLabel = saved ? 'Add images' : 'Images'
  const imagesHint = `${addingMore ? 'Add more images. ' : ''}${ALLOWED_TYPES_LABEL}; up to ${uploader.maxImagesPerProduct} images of ${formatBytes(uploader.maxImageBytes)} each.`
  const imageErrorList = <FieldErrors id="images-error" errors={state.imageErrors} />
  const fileInput = (
    <div className="field">
      <label htmlFor="images">{imagesLabel}</label>
      <span className="hint" id="images-hint">
        {imagesHint}
      </span>
      <input
        id="images"
        name={FORM_FIELDS.images}
        type="file"
        multiple
        accept={ACCEPTED_FILE_TYPES.join(',')}
        aria-invalid={state.imageErrors.length > 0 || undefined}
        aria-describedby={state.imageErrors.length > 0 ? 'images-hint images-error' : 'images-hint'}
      />
      {imageErrorList}
    </div>
  )

  return (
    <Form
      method="post"
      encType="multipart/form-data"
      {...getFormProps(form)}
      onSubmit={(event) => {
        form.onSubmit(event)
        // Conform checks a field by submitting with its own intent button; only the admin's submits count.
        const submitter = (event.nativeEvent as SubmitEvent).submitter
        if (event.defaultPrevented && submitter?.getAttribute('name') !== INTENT) setAttempts((n) => n + 1)
      }}
    >
      {saved ? (
        // Enter in a text field presses a form's first submit button: this one, not a Move button. Disabled
        // like the visible one, so Enter cannot save while images are still uploading.
        <SaveButton
          store={uploads}
          submitting={submitting}
          className="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
        >
          {submitLabel}
        </SaveButton>
      ) : null}
      {saved ? <input type="hidden" name={FORM_FIELDS.version} value={saved.version} /> : null}
      <input type="hidden" name={FORM_FIELDS.idempotencyKey} value={state.idempotencyKey} />
      {shown ? (
        // Focus comes here after a failed submit (with or without JavaScript); each problem links to its field.
        <div className="errors" role="alert" id="form-errors" tabIndex={-1} autoFocus ref={summary}>
          <strong>
            Please fix {problems.length === 1 ? 'this problem' : `these ${problems.length} problems`}:
          </strong>
          <ul>
            {problems.map(({ target, message }, i) => (
              <li key={i}>
                <a href={`#${target}`}>{message}</a>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <div className="field">
        <label htmlFor="name">Name</label>
        <input {...getInputProps(fields.name, { type: 'text' })} id="name" />
        <FieldErrors id={fields.name.errorId} errors={fields.name.errors} />
      </div>

      <div className="field">
        <label htmlFor="price">Price</label>
        <span className="hint" id="price-hint">
          In dollars, for example 19.99.
        </span>
        <input
          {...getInputProps(fields.price, { type: 'text', ariaDescribedBy: 'price-hint' })}
          id="price"
          inputMode="decimal"
        />
        <FieldErrors id={fields.price.errorId} errors={fields.price.errors} />
      </div>

      <div className="field">
        <label htmlFor="description">Description</label>
        <textarea {...getTextareaProps(fields.description)} id="description" />
        <FieldErrors id={fields.description.errorId} errors={fields.description.errors} />
      </div>

      {saved && saved.images.length > 0 ? (
        <ExistingImages
          key={answer.generation}
          images={saved.images}
          altErrors={Object.fromEntries(
            saved.images.flatMap(({ id }) => {
              const errors = fieldErrors[altFieldName(id)]
              return errors?.[0] ? [[id, errors[0]]] : []
            }),
          )}
          announcement={saved.announcement}
          onKeptCountChange={setSavedCount}
        />
      ) : null}

      {staged.length > 0 ? (
        <fieldset className="field">
          <legend>{saved ? 'New images already uploaded' : 'Images already uploaded'}</legend>
          <ul className="kept-images">
            {staged.map((image, i) => (
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
              {imagesLabel}
            </span>
            {imageErrorList}
            <ImageUploader
              key={answer.generation}
              settings={uploader}
              keptCount={staged.length + savedCount}
              fieldName={FORM_FIELDS.keptImage}
              onStatusChange={uploads.set}
            />
          </div>
        </Suspense>
      ) : (
        fileInput
      )}

      <UploadStatusLine store={uploads} />
      <SaveButton store={uploads} submitting={submitting}>
        {submitting ? 'Saving…' : submitLabel}
      </SaveButton>
    </Form>
  )
}

/** The element a problem with the field `name` links to: the images' one is the Dashboard once hydrated. */
function targetOf(name: string, hydrated: boolean) {
  const alt = `${FORM_FIELDS.imageAlt}.`
  if (name.startsWith(alt)) return `alt-${name.slice(alt.length)}`
  if (name === 'name' || name === 'price' || name === 'description') return name
  return hydrated ? 'images-label' : 'images'
}
