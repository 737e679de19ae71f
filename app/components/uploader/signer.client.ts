import { MAX_SIGN_BATCH, partLayout } from '~/uploads/limits'
import {
  BatchAnswerSchema,
  SignedRequestSchema,
  SignRefusalSchema,
  type BatchItem,
  type SignedRequest,
} from '~/uploads/signing-protocol'
import { DigestError, FileDigests } from './digest.client'

/** How often a request waits out the signing route's 429 before the file fails (each up to 2 minutes). */
const MAX_LIMIT_WAITS = 10

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

/** A file as the signer needs it to start its upload: its bytes are hashed before they are signed. */
export interface UploadFile {
  id: string
  name: string
  type: string
  size: number
  data: Blob
}

/** A file of a drop, and whether it goes up as a multipart upload. */
export interface NewFile extends UploadFile {
  multipart: boolean
}

type Ahead = { answer: BatchItem; usableUntil: number }
/**
 * The requests signed ahead together (a drop's first requests, or a file's parts): `waiting` for their
 * digests; `streamed` when there are more bytes to hash than STREAM_GROUP_BYTES.
 */
type Group = { waiting: number; streamed: boolean }

/**
 * A group with up to this many bytes to hash goes in one batch once every digest is known: about
 * 50-100 ms of hashing on one core, for one round trip saved. A larger one sends each request the
 * uploader is waiting for as soon as its own digest is known (with every other one ready by then), so
 * the first uploads of a large drop do not wait for the whole drop to be hashed.
 */
const STREAM_GROUP_BYTES = 32 * 1024 * 1024
/** A request to sign ahead, waiting for its digest and then for a batch to go in. */
type Entry = {
  body: Record<string, unknown>
  ready: boolean
  /** The uploader is waiting for it now. */
  urgent: boolean
  group: Group
  settle: (ahead: Ahead | null) => void
  /** Puts its digest before the others still waiting. */
  hurry: () => void
}
type Upload = { ref: string; file: UploadFile }

/**
 * The uploader's side of POST /uploads/sign. Every single PUT and every part is signed with the MD5 of
 * its bytes (S3 then refuses other bytes), hashed from the file in a worker (FileDigests): a drop's
 * files are hashed as they will be sent (the single PUTs' whole files first, then the multipart files'
 * parts) while the first requests go up.
 *
 * Besides signing one request at a time, it signs ahead, so that a request does not wait for a round
 * trip to the app: the first request of every file in a drop, and all the parts of a multipart upload
 * when its first part is asked for. A request signed ahead waits for its digest. One batch is in flight
 * at a time; the next goes once every request of a drop (or of a file's parts) has its digest, or, in a
 * group with much to hash (STREAM_GROUP_BYTES), as soon as the uploader waits for a request whose digest
 * is known, carrying every request ready by then: a large drop's first uploads start after their own
 * digests, and the rest are signed together before their turn. A signature made ahead is used once,
 * and only in the first half of its life; after that (or after any failure) the request is signed again,
 * so an expired URL still never needs the admin.
 */
export class UploadSigner {
  readonly #ahead = new Map<string, Promise<Ahead | null>>()
  readonly #entries = new Map<string, Entry>()
  #batchInFlight = false
  /** Each started upload's reference and file, by key; kept after a file's removal for its abort. */
  readonly #uploads = new Map<string, Upload>()

  constructor(
    private readonly urlTtlMs: number,
    private readonly endpoint = '/uploads/sign',
    /** Off only for the benchmark's comparison: then nothing is hashed or signed with a digest. */
    private readonly digests: FileDigests | null = new FileDigests(),
  ) {}

  /** Hashes the files of a drop and signs the first request of each as soon as its digest is known. */
  signAhead(files: NewFile[]) {
    // The queue's order (largest first). A multipart file's first part waits for its create round trip
    // anyway, so the single PUTs' files are hashed before any part.
    const queued = [...files].sort((a, b) => b.size - a.size)
    for (const file of queued) if (!file.multipart) void this.#md5(file, 0).catch(() => {})
    for (const file of queued) {
      if (!file.multipart) continue
      const { count } = partLayout(file.size)
      for (let n = 1; n <= count; n++) void this.#md5(file, n).catch(() => {})
    }
    const hashed = files.reduce((sum, file) => sum + (file.multipart ? 0 : file.size), 0)
    const group = { waiting: 0, streamed: this.digests !== null && hashed > STREAM_GROUP_BYTES }
    for (const file of files) {
      const body = { fileName: file.name, contentType: file.type, size: file.size }
      this.#enqueue(
        `new:${file.id}`,
        file.multipart
          ? { operation: 'createMultipartUpload', ...body }
          : { operation: 'putObject', ...body },
        file.multipart ? null : file,
        0,
        group,
      )
    }
  }

  /**
   * Signs one request of the S3 client. `file` is the Uppy file a new upload is for; the answer of a new
   * upload carries the key the server chose and the reference the form submits.
   */
  async sign(request: SignInput, file?: UploadFile) {
    if ('uploadId' in request) {
      const upload = this.#uploads.get(request.key)
      if (!upload) throw new SigningError('This upload is unknown to the page; add the file again.', 400)
      const { key, uploadId } = request
      const { ref } = upload
      if (request.partNumber !== undefined) {
        const partNumber = request.partNumber
        const id = `part:${key}:${uploadId}:${partNumber}`
        if (!this.#ahead.has(id)) this.#signPartsAhead(key, uploadId, partNumber, upload)
        return (
          (await this.#take(id, 'PUT')) ??
          this.#signOne({
            operation: 'uploadPart',
            key,
            uploadId,
            partNumber,
            ref,
            md5: await this.#md5(upload.file, partNumber, { urgent: true }),
          })
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
      return this.#signOne({ operation, key, uploadId, ref })
    }
    if (request.method !== 'PUT' && request.method !== 'POST') {
      throw new SigningError(
        `The uploader asked to sign ${request.method} ${request.key}, which it never needs.`,
        400,
      )
    }
    if (!file) throw new SigningError('The file was removed.', 400)
    const fields = { fileName: file.name, contentType: file.type, size: file.size }
    const answer =
      (await this.#take(`new:${file.id}`, request.method)) ??
      (await this.#signOne(
        request.method === 'PUT'
          ? { operation: 'putObject', ...fields, md5: await this.#md5(file, 0, { urgent: true }) }
          : { operation: 'createMultipartUpload', ...fields },
      ))
    if (answer.key && answer.ref) this.#uploads.set(answer.key, { ref: answer.ref, file })
    return answer
  }

  /** Forgets a file's digests (it finished, or was removed). */
  forget(fileId: string) {
    this.digests?.forget(`${fileId}:`)
  }

  dispose() {
    this.digests?.dispose()
  }

  /**
   * The digest of part `partNumber` of `file` (0: the whole file, for a single PUT); undefined when
   * digests are off. A file the browser can no longer read fails for good, naming it.
   */
  async #md5(file: UploadFile, partNumber: number, { urgent = false } = {}) {
    if (!this.digests) return undefined
    const { partSize, length } = partLayout(file.size, partNumber)
    const start = partNumber === 0 ? 0 : (partNumber - 1) * partSize
    const end = partNumber === 0 ? file.size : start + (length ?? 0)
    try {
      return await this.digests.digest(`${file.id}:${partNumber}`, file.data, start, end, { urgent })
    } catch (error) {
      if (!(error instanceof DigestError)) throw error
      throw error.unreadable
        ? new SigningError(
            `${file.name} could not be read from your device (it was moved or changed after you added it); add it again.`,
            400,
          )
        : new SigningError(`${file.name} could not be checked before sending: ${error.message}`, 503)
    }
  }

  /** Signs the parts from `from` on (up to a batch's worth) not already signed ahead, once their digests are known. */
  #signPartsAhead(key: string, uploadId: string, from: number, upload: Upload) {
    const { count, partSize } = partLayout(upload.file.size)
    const last = Math.min(count, from + MAX_SIGN_BATCH - 1)
    const hashed = Math.min(upload.file.size, last * partSize) - (from - 1) * partSize
    const group = { waiting: 0, streamed: this.digests !== null && hashed > STREAM_GROUP_BYTES }
    for (let n = from; n <= last; n++) {
      const id = `part:${key}:${uploadId}:${n}`
      if (this.#ahead.has(id)) continue
      const body = { operation: 'uploadPart', key, uploadId, partNumber: n, ref: upload.ref }
      this.#enqueue(id, body, upload.file, n, group)
    }
  }

  /** Queues a request to sign ahead; with `file`, once the digest of its part `partNumber` is known. */
  #enqueue(
    id: string,
    body: Record<string, unknown>,
    file: UploadFile | null,
    partNumber: number,
    group: Group,
  ) {
    let settle!: Entry['settle']
    this.#ahead.set(id, new Promise<Ahead | null>((resolve) => (settle = resolve)))
    const hurry = () => {
      if (file) void this.#md5(file, partNumber, { urgent: true }).catch(() => {})
    }
    const entry: Entry = { body, ready: file === null, urgent: false, group, settle, hurry }
    this.#entries.set(id, entry)
    if (!file) return this.#pump()
    group.waiting++
    this.#md5(file, partNumber).then(
      (hex) => {
        if (hex) entry.body = { ...body, md5: hex }
        entry.ready = true
        group.waiting--
        this.#pump()
      },
      () => {
        // Signed alone when asked for, which says why the digest failed.
        this.#entries.delete(id)
        group.waiting--
        settle(null)
        this.#pump()
      },
    )
  }

  /** Sends the next batch: at most one in flight, and only once it is worth a round trip (see the class). */
  #pump() {
    if (this.#batchInFlight) return
    const ready = [...this.#entries].filter(([, entry]) => entry.ready)
    const worthIt = ready.some(
      ([, entry]) => entry.group.waiting === 0 || (entry.urgent && entry.group.streamed),
    )
    if (!worthIt) return
    const chunk = ready.slice(0, MAX_SIGN_BATCH)
    for (const [id] of chunk) this.#entries.delete(id)
    this.#batchInFlight = true
    void this.#batch(chunk.map(([, entry]) => entry.body))
      .then((items) => chunk.forEach(([, entry], i) => entry.settle(items?.[i] ?? null)))
      .finally(() => {
        this.#batchInFlight = false
        this.#pump()
      })
  }

  /** A signature made ahead, once; null when there is none, it failed, or it is past half its life. */
  async #take(id: string, method: string): Promise<SignedRequest | null> {
    const pending = this.#ahead.get(id)
    if (!pending) return null
    this.#ahead.delete(id)
    const entry = this.#entries.get(id)
    if (entry) {
      entry.urgent = true
      entry.hurry()
      this.#pump()
    }
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

  /**
   * POSTs to the signing route. Past the admin's limits on new uploads it answers 429 with Retry-After:
   * the request waits that long and goes again, so the files wait rather than fail.
   */
  async #post(body: Record<string, unknown>) {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
      }).catch(() => {
        throw new SigningError('The app could not be reached to sign the upload.', 503)
      })
      const wait = Number(response.headers.get('Retry-After'))
      if (response.status === 429 && attempt < MAX_LIMIT_WAITS && wait > 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 120) * 1000))
        continue
      }
      return { status: response.status, json: (await response.json().catch(() => ({}))) as unknown }
    }
  }
}
