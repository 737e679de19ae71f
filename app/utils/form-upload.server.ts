import { unstable_parseMultipartFormData, type UploadHandlerPart } from '@remix-run/node'
import { getEnv } from './env.server'
import { sniffImage, type SniffedImage } from './image-type'
import { newStagingKey, ObjectTooLargeError, streamToS3 } from './storage.server'
import { signUploadRef, type StagedImage } from './upload-ref.server'
import { ALLOWED_TYPES_LABEL, formatBytes, type UploadLimits } from './upload-limits'

const MAX_TEXT_FIELD_BYTES = 64 * 1024
const MAX_TEXT_FIELDS_BYTES = 1024 * 1024
/** Form fields whose values are references to images kept from an earlier submit. */
export const KEPT_IMAGE_FIELD = 'imageRef'

export interface ParsedImageForm {
  formData: FormData
  /** Images this request streamed to staging, in the order they arrived. */
  uploaded: StagedImage[]
  /** One message per file that was refused; the other files are kept. */
  fileErrors: string[]
}

class NotAnImageError extends Error {}

/**
 * Parses a multipart product form without buffering files: each file part named `fileField` streams
 * to a key the server chooses in this admin's staging namespace. Its first bytes must be an allowed
 * image; size and count limits apply while streaming. A refused file is drained and reported; it never
 * stops the other fields. Text fields are capped so a hostile body cannot fill memory either.
 */
export async function parseImageForm(
  request: Request,
  { adminId, fileField, limits }: { adminId: number; fileField: string; limits: UploadLimits },
): Promise<ParsedImageForm> {
  const uploaded: StagedImage[] = []
  const fileErrors: string[] = []
  let textBytes = 0
  let kept = 0

  const handler = async (part: UploadHandlerPart): Promise<string | undefined> => {
    if (part.filename === undefined) {
      const text = await readText(part, Math.min(MAX_TEXT_FIELD_BYTES, MAX_TEXT_FIELDS_BYTES - textBytes))
      if (text === null) {
        fileErrors.push('The form is larger than expected; please try again.')
        return undefined
      }
      textBytes += Buffer.byteLength(text)
      if (part.name === KEPT_IMAGE_FIELD) kept += 1
      return text
    }
    if (part.name !== fileField || part.filename === '') {
      await drain(part.data)
      return undefined
    }
    const fileName = part.filename.slice(0, 255)
    if (kept + uploaded.length >= limits.maxImagesPerProduct) {
      await drain(part.data)
      fileErrors.push(
        `${fileName} was not added: a product has at most ${limits.maxImagesPerProduct} images.`,
      )
      return undefined
    }
    const image = await stageFile(part, { adminId, fileName, maxBytes: limits.maxImageBytes }).catch(
      async (error: unknown) => {
        await drain(part.data)
        fileErrors.push(describeFileError(fileName, error, limits))
        return null
      },
    )
    if (!image) return undefined
    uploaded.push(image)
    return signUploadRef(image)
  }

  const formData = await unstable_parseMultipartFormData(request, handler)
  return { formData, uploaded, fileErrors }
}

async function stageFile(
  part: UploadHandlerPart,
  { adminId, fileName, maxBytes }: { adminId: number; fileName: string; maxBytes: number },
): Promise<StagedImage> {
  let sniffed: SniffedImage | null = null
  const stored = await streamToS3({
    source: part.data,
    maxBytes,
    inspect: (head) => {
      sniffed = sniffImage(head)
      if (!sniffed) throw new NotAnImageError()
      return { key: newStagingKey(adminId, sniffed.type), contentType: sniffed.type }
    },
  })
  const image = sniffed as SniffedImage | null
  if (!image) throw new NotAnImageError()
  return {
    key: stored.key,
    adminId,
    contentType: image.type,
    byteSize: stored.byteSize,
    width: image.width,
    height: image.height,
    fileName,
    expiresAt: Math.floor(Date.now() / 1000) + getEnv().STAGING_EXPIRY_DAYS * 86400,
  }
}

function describeFileError(fileName: string, error: unknown, limits: UploadLimits) {
  if (error instanceof NotAnImageError) {
    return `${fileName} is not an image we accept (${ALLOWED_TYPES_LABEL}).`
  }
  if (error instanceof ObjectTooLargeError) {
    return `${fileName} is larger than ${formatBytes(limits.maxImageBytes)}, the limit for one image.`
  }
  console.error(`Could not store ${fileName}`, error)
  return `${fileName} could not be stored; please try again.`
}

async function readText(part: UploadHandlerPart, maxBytes: number): Promise<string | null> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of part.data) {
    size += chunk.length
    if (size > maxBytes) {
      await drain(part.data)
      return null
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads a part to its end; the parser would otherwise buffer what is left of it in memory. */
async function drain(data: AsyncIterable<Uint8Array>) {
  for await (const _ of data) {
    // discard
  }
}
