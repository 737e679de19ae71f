import { getFormProps, getInputProps, getTextareaProps, useForm } from '@conform-to/react'
import { getZodConstraint, parseWithZod } from '@conform-to/zod/v4'
import { Form, useNavigation } from '@remix-run/react'
import { lazy, Suspense, useEffect, useRef, useState } from 'react'
import { ExistingImages } from '~/components/existing-images'
import { FieldErrors } from '~/components/field-errors'
import { useFormDraft, type DraftFields } from '~/components/form-draft'
import { EditorLeaveGuard } from '~/components/leave-guard'
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

  // What the admin types is kept in the browser until the save succeeds, and comes back after a reload.
  const value = (form.value ?? {}) as Record<string, unknown>
  const typed = typedFields(value, state)
  const draft = useFormDraft({
    key: saved ? `product:${saved.productId}` : 'product:new',
    formId: form.id,
    initial: initialFields(state),
    fresh: state.submission === null,
  })
  useEffect(() => {
    if (!draft.found) return
    for (const [name, text] of Object.entries(draft.found)) form.update({ name, value: text })
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, when a draft is found
  }, [draft.found])

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
      {draft.found ? (
        <p className="draft-note" role="status">
          What you typed here before the page was closed or reloaded is back.{' '}
          <button
            type="button"
            className="link"
            onClick={() => {
              const initial = initialFields(state)
              for (const [name, text] of Object.entries(initial)) form.update({ name, value: text })
              draft.forget(initial)
            }}
          >
            Start over
          </button>
        </p>
      ) : null}
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

      <EditorLeaveGuard store={uploads} changed={!submitting && hasUnsavedChanges(value, typed, state)} />
      <UploadStatusLine store={uploads} />
      <SaveButton store={uploads} submitting={submitting}>
        {submitting ? 'Saving…' : submitLabel}
      </SaveButton>
    </Form>
  )
}

/** The fields a draft keeps, as the form opened: the text fields and, when editing, each alt text. */
function initialFields(state: EditorState): DraftFields {
  const fields: DraftFields = { ...state.defaultValue }
  for (const image of state.saved?.images ?? []) fields[altFieldName(image.id)] = image.altText
  return fields
}

/** The fields a draft keeps, as they are now. */
function typedFields(value: Record<string, unknown>, state: EditorState): DraftFields {
  const alts = (value[FORM_FIELDS.imageAlt] ?? {}) as Record<string, unknown>
  const fields: DraftFields = {}
  for (const [name, initial] of Object.entries(initialFields(state))) {
    const alt = name.startsWith(`${FORM_FIELDS.imageAlt}.`)
      ? alts[name.slice(FORM_FIELDS.imageAlt.length + 1)]
      : undefined
    const current = alt ?? value[name]
    fields[name] = typeof current === 'string' ? current : initial
  }
  return fields
}

/** Anything leaving would lose: typed text, images uploaded but not saved, removals and a new order. */
function hasUnsavedChanges(value: Record<string, unknown>, typed: DraftFields, state: EditorState) {
  const initial = initialFields(state)
  if (Object.entries(typed).some(([name, text]) => text !== initial[name])) return true
  const present = (name: string) => {
    const field = value[name]
    return Array.isArray(field) ? field.length > 0 : typeof field === 'string' && field !== ''
  }
  if (present(FORM_FIELDS.keptImage) || present(FORM_FIELDS.removeImage)) return true
  const order = value[FORM_FIELDS.imageId]
  const ids = Array.isArray(order) ? order : typeof order === 'string' ? [order] : []
  const saved = state.saved?.images.map((image) => image.id) ?? []
  return ids.length > 0 && ids.join() !== saved.join()
}

/** The element a problem with the field `name` links to: the images' one is the Dashboard once hydrated. */
function targetOf(name: string, hydrated: boolean) {
  const alt = `${FORM_FIELDS.imageAlt}.`
  if (name.startsWith(alt)) return `alt-${name.slice(alt.length)}`
  if (name === 'name' || name === 'price' || name === 'description') return name
  return hydrated ? 'images-label' : 'images'
}
