import { Readable } from 'node:stream'
import type { ReadableStream as NodeWebStream } from 'node:stream/web'
import busboy from 'busboy'
import { recordUpload } from '~/models/upload.server'
import { readHeifContainer } from './heif-container'
import { SNIFF_BYTES, type SniffedImage } from './sniff'
import { sniffProblem, sniffUpload } from './sniff.server'
import { FORM_FIELDS } from '~/utils/product-schema'
import { cleanFileName } from '~/utils/text'
import type { StagedImage } from './staged-image.server'
import { deleteObjects, newStagingKey, ObjectTooLargeError, readObjectRange } from '~/utils/storage.server'
import { drainIterator, streamToS3, STREAM_PART_BYTES } from './stream-to-s3.server'
import { refExpiry, signUploadRef } from './refs.server'
import { dimensionsProblem, formatBytes, type UploadLimits } from './limits'
import { ALLOWED_TYPES_LABEL } from './image-types'

const MAX_TEXT_FIELD_BYTES = 64 * 1024
const MAX_TEXT_FIELDS = 200
const STREAM_HIGH_WATER_MARK = 1024 * 1024

export interface ParsedImageForm {
  formData: FormData
  /** Images this request streamed to staging and checked, in the order they arrived, with their references. */
  uploaded: { image: StagedImage; ref: string }[]
  /** One message per file that was refused, in form order; the other files are kept. */
  fileErrors: string[]
}

class NotAnImageError extends Error {}
/** The header claims more pixels than allowed: refused before a byte goes to S3. */
class DimensionsError extends Error {}

/**
 * Parses a multipart product form without buffering files: each file part named `fileField` streams
 * to a key the server chooses in this admin's staging namespace. Its first bytes must be an allowed
 * image; size and count limits apply while streaming. A refused file is drained and reported; it never
 * stops the other fields. Text fields are capped too, so a hostile body cannot fill memory.
 * busboy does the parsing: it keeps pace with the network where Remix's built-in parser tops out
 * near 140 MiB/s on one core.
 */
export async function parseImageForm(
  request: Request,
  {
    adminId,
    fileField,
    limits,
    onFormData,
  }: {
    adminId: number
    fileField: string
    limits: UploadLimits
    /** Gets the form's fields as they arrive, to give them back if the upload cannot finish. */
    onFormData?: (formData: FormData) => void
  },
): Promise<ParsedImageForm> {
  if (!request.body) throw new TypeError('The form has no body.')
  const formData = new FormData()
  onFormData?.(formData)
  const slots: ({ image: StagedImage } | { error: string })[] = []
  const formErrors: string[] = []
  const tasks: Promise<void>[] = []
  let kept = 0

  const parser = busboy({
    headers: { 'content-type': request.headers.get('Content-Type') ?? '' },
    // Larger stream buffers than the 16 KiB default: fewer hops per part, still bounded memory.
    highWaterMark: STREAM_HIGH_WATER_MARK,
    fileHwm: STREAM_HIGH_WATER_MARK,
    limits: { fieldSize: MAX_TEXT_FIELD_BYTES, fields: MAX_TEXT_FIELDS, parts: MAX_TEXT_FIELDS + 1000 },
  })
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated) {
      formErrors.push(`The ${name} field is longer than ${formatBytes(MAX_TEXT_FIELD_BYTES)}.`)
      return
    }
    if (name === FORM_FIELDS.keptImage) kept += 1
    formData.append(name, value)
  })
  parser.on('fieldsLimit', () => formErrors.push('The form has more fields than expected.'))
  parser.on('file', (name, stream, info) => {
    const source = stream[Symbol.asyncIterator]()
    const fileName = cleanFileName(info.filename ?? '')
    if (name !== fileField || fileName === '') {
      tasks.push(drainIterator(source))
      return
    }
    const slot = slots.length
    if (kept + slot >= limits.maxImagesPerProduct) {
      slots.push({
        error: `${fileName} was not added: a product has at most ${limits.maxImagesPerProduct} images.`,
      })
      tasks.push(drainIterator(source))
      return
    }
    slots.push({ error: '' })
    tasks.push(
      stageFile(source, { adminId, fileName, limits }).then(
        (image) => {
          slots[slot] = { image }
        },
        async (error: unknown) => {
          slots[slot] = { error: describeFileError(fileName, error, limits) }
          await drainIterator(source)
        },
      ),
    )
  })

  const body = Readable.fromWeb(request.body as NodeWebStream<Uint8Array>, {
    highWaterMark: STREAM_HIGH_WATER_MARK,
  })
  try {
    await new Promise<void>((resolve, reject) => {
      // A dropped connection (tab closed, network lost, idle timeout) ends the parser at once, and with
      // it the file being streamed: its multipart upload is aborted and its part buffers let go.
      const fail = (error: unknown) => {
        parser.destroy(error instanceof Error ? error : new Error(String(error)))
        body.destroy()
        reject(error instanceof Error ? error : new Error('The connection was closed.'))
      }
      if (request.signal.aborted) return fail(new Error('The connection was closed.'))
      request.signal.addEventListener('abort', () => fail(new Error('The connection was closed.')), {
        once: true,
      })
      parser.on('close', resolve)
      parser.on('error', fail)
      body.on('error', fail)
      body.pipe(parser)
    })
  } catch (error) {
    // The file being streamed fails with the parser; wait for its abort before answering.
    await Promise.allSettled(tasks)
    throw error
  }
  await Promise.all(tasks)

  const uploaded: ParsedImageForm['uploaded'] = []
  const fileErrors = [...formErrors]
  for (const slot of slots) {
    if ('image' in slot) {
      const { image } = slot
      const ref = signUploadRef({
        key: image.key,
        adminId,
        contentType: image.contentType,
        fileName: image.fileName,
        size: image.byteSize,
        expiresAt: refExpiry(),
      })
      uploaded.push({ image, ref })
    } else fileErrors.push(slot.error)
  }
  return { formData, uploaded, fileErrors }
}

async function stageFile(
  source: AsyncIterator<Uint8Array>,
  { adminId, fileName, limits }: { adminId: number; fileName: string; limits: UploadLimits },
): Promise<StagedImage> {
  let sniffed: SniffedImage | null = null
  /** A HEIF whose meta box comes after its image data, past the first part: checked once stored. */
  let laterHead: Uint8Array | null = null
  const stored = await streamToS3({
    source,
    maxBytes: limits.maxImageBytes,
    inspect: async (head) => {
      const sniff = await sniffUpload(head)
      const heif = !sniff.ok && sniff.problem === 'no-size' ? readHeifContainer(head) : null
      if (heif?.continueAt) {
        laterHead = head.slice(0, SNIFF_BYTES)
        return { key: newStagingKey(adminId, heif.type), contentType: heif.type }
      }
      if (!sniff.ok) throw new NotAnImageError(sniffProblem(fileName, sniff, ALLOWED_TYPES_LABEL))
      sniffed = sniff.image
      const tooLarge = dimensionsProblem(fileName, sniffed, limits.maxImagePixels)
      if (tooLarge) throw new DimensionsError(tooLarge)
      return { key: newStagingKey(adminId, sniffed.type), contentType: sniffed.type }
    },
  })
  if (laterHead) sniffed = await checkStoredHeif(stored, laterHead, fileName, limits)
  const image = sniffed as SniffedImage | null
  if (!image) throw new NotAnImageError(`${fileName} is not an image we accept (${ALLOWED_TYPES_LABEL}).`)
  await recordUpload({
    key: stored.key,
    adminId,
    fileName,
    contentType: image.type,
    declaredSize: stored.byteSize,
    multipart: stored.byteSize > STREAM_PART_BYTES,
    // A later submit that keeps this image is held to the digests computed while it streamed.
    contentMd5: stored.contentMd5,
    partMd5s: stored.partMd5s,
  })
  return {
    key: stored.key,
    contentType: image.type,
    byteSize: stored.byteSize,
    width: image.width,
    height: image.height,
    fileName,
    etag: stored.etag,
  }
}

/** The size check of a HEIF whose header lies past its first part, read back from storage; refused, it is deleted. */
async function checkStoredHeif(
  stored: { key: string; byteSize: number; etag: string },
  head: Uint8Array,
  fileName: string,
  limits: UploadLimits,
): Promise<SniffedImage> {
  const sniff = await sniffUpload(head, {
    byteSize: stored.byteSize,
    read: (start, length) => readObjectRange(stored.key, start, length, stored.etag),
  })
  const problem = sniff.ok
    ? dimensionsProblem(fileName, sniff.image, limits.maxImagePixels)
    : sniffProblem(fileName, sniff, ALLOWED_TYPES_LABEL)
  if (!problem && sniff.ok) return sniff.image
  await deleteObjects([stored.key]).catch(() => {})
  throw new DimensionsError(problem!)
}

function describeFileError(fileName: string, error: unknown, limits: UploadLimits) {
  if (error instanceof NotAnImageError) return error.message
  if (error instanceof DimensionsError) return error.message
  if (error instanceof ObjectTooLargeError) {
    return `${fileName} is larger than ${formatBytes(limits.maxImageBytes)}, the limit for one image.`
  }
  console.error(`Could not store ${fileName}`, error)
  return `${fileName} could not be stored; please try again.`
}
