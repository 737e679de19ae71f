import type { ImageView } from '~/images/variants'
import { UUID_PATTERN } from '~/uploads/image-types'
import { parseWithZod } from '@conform-to/zod/v4'
import { z } from 'zod'
import { hasControlCharacters } from './text'

/** The product form's field names, shared by the form and the action that parses it. */
export const FORM_FIELDS = {
  images: 'images',
  keptImage: 'imageRef',
  removeImage: 'removeImage',
  idempotencyKey: 'idempotencyKey',
  /** Edit form: the product's images in their order, one hidden input each. */
  imageId: 'imageId',
  /** Edit form: `imageAlt.<id>` holds that image's alt text. */
  imageAlt: 'imageAlt',
  /** Edit form: the version it was opened at. */
  version: 'version',
  /** Edit form without JavaScript: a Move button's `<id>:up` or `<id>:down`. */
  move: 'move',
} as const

export const MAX_ALT_TEXT_LENGTH = 500

/** One of the product's saved images, as the edit form shows it. */
export interface SavedImage {
  id: string
  view: ImageView
  /** Downloads the original (an attachment); pages never show it. */
  downloadUrl: string
  altText: string
  /** Stays the same while the admin moves images around: the alt text, else "Image N" by saved position. */
  label: string
  removed: boolean
}

/** Product ids and idempotency keys are UUIDs. */
export function isUuid(value: string) {
  return UUID.test(value)
}
const UUID = new RegExp(`^${UUID_PATTERN}$`, 'i')

/** The name of the alt text field of one image in the edit form. */
export function altFieldName(imageId: string) {
  return `${FORM_FIELDS.imageAlt}.${imageId}`
}

export const MAX_NAME_LENGTH = 200
export const MAX_DESCRIPTION_LENGTH = 5000
export const PRICE_PATTERN = '\\d{1,7}([.,]\\d{1,2})?'

/** The product form's text fields, as the browser sends them; shared by the form and the action. */
export const ProductFieldsSchema = z.object({
  name: z
    .string({ error: 'Enter a name.' })
    .trim()
    .min(1, 'Enter a name.')
    .max(MAX_NAME_LENGTH, `Keep the name under ${MAX_NAME_LENGTH} characters.`)
    .refine(
      (v) => !hasControlCharacters(v) && !/[\n\r\t]/.test(v),
      'Remove the invisible characters from the name.',
    ),
  price: z
    .string({ error: 'Enter a price, for example 19.99.' })
    .trim()
    .min(1, 'Enter a price, for example 19.99.')
    .regex(new RegExp(`^${PRICE_PATTERN}$`), 'Enter a price like 19.99: digits, with up to two decimals.')
    .transform((value) => {
      const [whole = '0', fraction = ''] = value.replace(',', '.').split('.')
      return Number(whole) * 100 + Number(fraction.padEnd(2, '0'))
    }),
  description: z
    .string()
    .max(MAX_DESCRIPTION_LENGTH, `Keep the description under ${MAX_DESCRIPTION_LENGTH} characters.`)
    .refine((v) => !hasControlCharacters(v), 'Remove the invisible control characters from the description.')
    .default(''),
})

export type ProductFields = z.output<typeof ProductFieldsSchema>

const uuid = z.string().regex(UUID)

const AltTextSchema = z
  .string()
  .trim()
  .max(MAX_ALT_TEXT_LENGTH, `Keep the alt text under ${MAX_ALT_TEXT_LENGTH} characters.`)
  .refine((v) => !hasControlCharacters(v), 'Remove the invisible control characters from the alt text.')
  .default('')

/**
 * The product editor's form, every field of it, for creating and editing alike: parsed by Conform in the
 * browser (as the admin types) and in the action (with or without JavaScript). The files themselves are
 * not here: they stream to storage before the form is parsed, and come back as image references.
 */
export const ProductEditorSchema = ProductFieldsSchema.extend({
  /** A well-formed key, or none (a fresh one is made): a form never fails for it. */
  [FORM_FIELDS.idempotencyKey]: uuid
    .transform((key) => key.toLowerCase())
    .optional()
    .catch(undefined),
  /** Images staged by this form: signed references, checked against storage by the action. */
  [FORM_FIELDS.keptImage]: z.array(z.string()).default([]),
  /** References or saved image ids ticked for removal. */
  [FORM_FIELDS.removeImage]: z.array(z.string()).default([]),
  /** Edit form: the saved images, in the order the admin left them. */
  [FORM_FIELDS.imageId]: z.array(uuid).default([]).catch([]),
  /** Edit form: alt texts by saved image id (the action uses those of the product's own images). */
  [FORM_FIELDS.imageAlt]: z.record(z.string(), AltTextSchema).default({}),
  /** Edit form: the version it was opened at. */
  [FORM_FIELDS.version]: z.number().int().nonnegative().optional().catch(undefined),
  /** Edit form without JavaScript: a Move button's `<id>:up` or `<id>:down`. */
  [FORM_FIELDS.move]: z
    .string()
    .regex(new RegExp(`^${UUID_PATTERN}:(up|down)$`, 'i'))
    .optional()
    .catch(undefined),
})

export type ProductEditorValues = z.output<typeof ProductEditorSchema>

/** The image references a product form sent, less those ticked for removal. */
export function sentImageRefs(formData: FormData): string[] {
  const sent = parseWithZod(formData, {
    schema: ProductEditorSchema.pick({ [FORM_FIELDS.keptImage]: true, [FORM_FIELDS.removeImage]: true }),
  })
  if (sent.status !== 'success') return []
  const removed = new Set(sent.value.removeImage)
  return sent.value.imageRef.filter((ref) => !removed.has(ref))
}

/** "19.99" from 1999. */
export function formatPrice(cents: number) {
  return (cents / 100).toFixed(2)
}
