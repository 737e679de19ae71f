import { MAX_SIGN_BATCH, partLayout } from '~/uploads/limits'
import {
  BatchAnswerSchema,
  SignedRequestSchema,
  SignRefusalSchema,
  type BatchItem,
  type SignedRequest,
} from '~/uploads/signing-protocol'

/** A refusal from the signing route (or the route out of reach); `status` is its HTTP status. */
export class SigningError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

/** What @uppy/aws-s3 asks to have signed: a new upload (no uploadId) or a request on a started one. */
export type SignInput =
  { method: string; key: string } | { method: string; key: string; uploadId: string; partNumber?: number }

/** A file as the signer needs it to start its upload. */
export interface NewFile {
  id: string
  name: string
  type: string
  size: number
  multipart: boolean
}

type Ahead = { answer: BatchItem; usableUntil: number }

/**
 * The uploader's side of POST /uploads/sign. Besides signing one request at a time, it signs ahead,
 * so that a file's upload does not wait for a round trip to the app: the first request of every file
 * in a drop in one batch, and all the parts of a multipart upload when its first part is asked for.
 * A signature made ahead is used once, and only in the first half of its life; after that (or after
 * any failure) the request is signed again, so an expired URL still never needs the admin.
 */
export class UploadSigner {
  readonly #ahead = new Map<string, Promise<Ahead | null>>()
  /** Each started upload's reference and size, by key; kept after a file's removal for its abort. */
  readonly #uploads = new Map<string, { ref: string; size: number }>()

  constructor(
    private readonly urlTtlMs: number,
    private readonly endpoint = '/uploads/sign',
  ) {}

  /** Signs the first request of each new file now, in batches of at most MAX_SIGN_BATCH. */
  signAhead(files: NewFile[]) {
    for (let i = 0; i < files.length; i += MAX_SIGN_BATCH) {
      const chunk = files.slice(i, i + MAX_SIGN_BATCH)
      const batch = this.#batch(
        chunk.map((file) => ({
          operation: file.multipart ? 'createMultipartUpload' : 'putObject',
          fileName: file.name,
          contentType: file.type,
          size: file.size,
        })),
      )
      chunk.forEach((file, j) =>
        this.#ahead.set(
          `new:${file.id}`,
          batch.then((items) => items?.[j] ?? null),
        ),
      )
    }
  }

  /**
   * Signs one request of the S3 client. `file` is the Uppy file a new upload is for; the answer of a new
   * upload carries the key the server chose and the reference the form submits.
   */
  async sign(request: SignInput, file?: { id: string; name: string; type: string; size: number }) {
    if ('uploadId' in request) {
      const upload = this.#uploads.get(request.key)
      if (!upload) throw new SigningError('This upload is unknown to the page; add the file again.', 400)
      const { key, uploadId } = request
      if (request.partNumber !== undefined) {
        const partNumber = request.partNumber
        const id = `part:${key}:${uploadId}:${partNumber}`
        if (!this.#ahead.has(id)) this.#signPartsAhead(key, uploadId, partNumber, upload)
        return (
          (await this.#take(id, 'PUT')) ??
          this.#signOne({ operation: 'uploadPart', key, uploadId, partNumber, ref: upload.ref })
        )
      }
      const operation = { GET: 'listParts', POST: 'completeMultipartUpload', DELETE: 'abortMultipartUpload' }[
        request.method as 'GET' | 'POST' | 'DELETE'
      ]
      if (!operation)
        throw new SigningError(
          `The uploader asked to sign ${request.method} on an upload, which it never needs.`,
          400,
        )
      return this.#signOne({ operation, key, uploadId, ref: upload.ref })
    }
    if (request.method !== 'PUT' && request.method !== 'POST') {
      throw new SigningError(
        `The uploader asked to sign ${request.method} ${request.key}, which it never needs.`,
        400,
      )
    }
    if (!file) throw new SigningError('The file was removed.', 400)
    const answer =
      (await this.#take(`new:${file.id}`, request.method)) ??
      (await this.#signOne({
        operation: request.method === 'PUT' ? 'putObject' : 'createMultipartUpload',
        fileName: file.name,
        contentType: file.type,
        size: file.size,
      }))
    if (answer.key && answer.ref) this.#uploads.set(answer.key, { ref: answer.ref, size: file.size })
    return answer
  }

  /** Signs the parts from `from` on (up to a batch's worth) in one round trip. */
  #signPartsAhead(key: string, uploadId: string, from: number, upload: { ref: string; size: number }) {
    const { count } = partLayout(upload.size)
    const numbers: number[] = []
    for (let n = from; n <= Math.min(count, from + MAX_SIGN_BATCH - 1); n++) numbers.push(n)
    const batch = this.#batch(
      numbers.map((partNumber) => ({ operation: 'uploadPart', key, uploadId, partNumber, ref: upload.ref })),
    )
    numbers.forEach((partNumber, i) =>
      this.#ahead.set(
        `part:${key}:${uploadId}:${partNumber}`,
        batch.then((items) => items?.[i] ?? null),
      ),
    )
  }

  /** A signature made ahead, once; null when there is none, it failed, or it is past half its life. */
  async #take(id: string, method: string): Promise<SignedRequest | null> {
    const pending = this.#ahead.get(id)
    if (!pending) return null
    this.#ahead.delete(id)
    const ahead = await pending
    if (!ahead || Date.now() > ahead.usableUntil) return null
    if ('error' in ahead.answer) throw new SigningError(ahead.answer.error, ahead.answer.status)
    return ahead.answer.method === method ? ahead.answer : null
  }

  /** One batch; null when the batch as a whole failed, so each request falls back to signing alone. */
  async #batch(requests: Record<string, unknown>[]): Promise<Ahead[] | null> {
    const sentAt = Date.now()
    try {
      const { status, json } = await this.#post({ operation: 'batch', requests })
      const answer = BatchAnswerSchema.safeParse(json)
      if (status !== 200 || !answer.success || answer.data.results.length !== requests.length) return null
      return answer.data.results.map((answer) => ({ answer, usableUntil: sentAt + this.urlTtlMs / 2 }))
    } catch {
      return null
    }
  }

  async #signOne(body: Record<string, unknown>): Promise<SignedRequest> {
    const { status, json } = await this.#post(body)
    if (status === 200) {
      const signed = SignedRequestSchema.safeParse(json)
      if (signed.success) return signed.data
      throw new SigningError('The app answered with something that is not a signed request.', 502)
    }
    const refusal = SignRefusalSchema.safeParse(json)
    const message =
      status === 401
        ? 'Your session has ended: sign in again in another tab, then retry.'
        : refusal.success
          ? refusal.data.error
          : `The upload could not be signed (${status}).`
    throw new SigningError(message, status)
  }

  async #post(body: Record<string, unknown>) {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    }).catch(() => {
      throw new SigningError('The app could not be reached to sign the upload.', 503)
    })
    return { status: response.status, json: (await response.json().catch(() => ({}))) as unknown }
  }
}
