import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createHash } from 'node:crypto'
import { getEnv } from '~/utils/env.server'
import { deleteObjects, getS3, ObjectTooLargeError, StorageError } from '~/utils/storage.server'
import { holdEtag } from './staged-image.server'

/** Multipart part size for server-side streaming; S3 needs at least 5 MiB for every part but the last. */
export const STREAM_PART_BYTES = 6 * 1024 * 1024
const STREAM_PARALLEL_PARTS = 3
/**
 * Part buffers not in use, shared by every upload of this process (one upload's worth at most). An upload
 * takes its buffers from here and gives each back once S3 has its part. A buffer lives through a whole
 * upload, so one left to the garbage collector waits for a full collection: with its own buffers, each
 * large upload left 24 MiB behind it, and a fresh server's first one took about 6 MiB more.
 */
const idleParts: Uint8Array[] = []
const MAX_IDLE_PARTS = STREAM_PARALLEL_PARTS + 1

export interface StreamUploadOptions {
  /**
   * Called with the first part (or the whole object if smaller) before anything is sent to S3;
   * returns where the object goes and its type, or throws to refuse it.
   */
  inspect: (
    head: Uint8Array,
  ) => Promise<{ key: string; contentType: string }> | { key: string; contentType: string }
  /** Read with next() only: on failure the caller drains the same iterator (see drainIterator). */
  source: AsyncIterator<Uint8Array>
  maxBytes: number
  s3?: S3Client
  bucket?: string
}

/** The object was stored with other bytes than the server sent (its ETag is not the digests'); it is deleted. */
export class DamagedUploadError extends StorageError {
  override name = 'DamagedUploadError'
}

export interface StreamedObject {
  key: string
  byteSize: number
  contentType: string
  /** The object's ETag, checked against the digests below where the engine's ETags are MD5-based. */
  etag: string
  /** Lowercase hex MD5 of the whole body. */
  contentMd5: string
  /** Lowercase hex MD5 of each part, first part first; null for a single PutObject. */
  partMd5s: string[] | null
}

/**
 * Streams a body to S3 holding at most STREAM_PARALLEL_PARTS + 1 part buffers (STREAM_PART_BYTES each),
 * recycled (idleParts) so neither a long upload nor the next one makes garbage: one PutObject for a body
 * smaller than a part, multipart otherwise. Every request carries the Content-MD5 of its bytes (S3
 * refuses other bytes with BadDigest), and the object's ETag is held to the digests (DamagedUploadError).
 * Throws ObjectTooLargeError as soon as the body passes maxBytes and aborts the multipart upload on any
 * failure, so nothing is left behind. The caller drains the source after an error.
 */
export async function streamToS3(options: StreamUploadOptions): Promise<StreamedObject> {
  const s3 = options.s3 ?? getS3()
  const bucket = options.bucket ?? getEnv().S3_BUCKET
  const parts = partsOf(options.source, STREAM_PART_BYTES, options.maxBytes, idleParts)
  const whole = createHash('md5')
  const digest = (body: Uint8Array) => {
    whole.update(body)
    return createHash('md5').update(body).digest()
  }

  const first = await parts.next()
  const head = first.done ? new Uint8Array(0) : first.value
  const { key, contentType } = await options.inspect(head)
  const second = first.done ? first : await parts.next()
  if (second.done) {
    const md5 = digest(head)
    const { ETag, ...put } = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: head,
        ContentType: contentType,
        ContentMD5: md5.toString('base64'),
      }),
    )
    if (!ETag) throw new StorageError(`S3 returned no ETag for ${key}`)
    const stored: StreamedObject = {
      key,
      byteSize: head.length,
      contentType,
      etag: ETag,
      contentMd5: md5.toString('hex'),
      partMd5s: null,
    }
    return await heldToDigests(stored, opaqueEtag(put), s3, bucket)
  }

  const { UploadId } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
  )
  if (!UploadId) throw new StorageError('S3 returned no UploadId')
  const completed: { PartNumber: number; ETag: string }[] = []
  const partMd5s: string[] = []
  const inFlight = new Set<Promise<void>>()
  let byteSize = 0
  let failure: unknown
  const send = (body: Uint8Array, partNumber: number) => {
    byteSize += body.length
    // Hashed before it is sent, while the part buffer is certainly this part's bytes.
    const md5 = digest(body)
    partMd5s[partNumber - 1] = md5.toString('hex')
    const task = s3
      .send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: partNumber,
          Body: body,
          ContentMD5: md5.toString('base64'),
        }),
      )
      .then((result) => {
        if (!result.ETag) throw new StorageError(`S3 returned no ETag for part ${partNumber}`)
        completed.push({ PartNumber: partNumber, ETag: result.ETag })
        // The last part is a view of a part buffer too: the whole buffer goes back.
        const { buffer } = body
        if (buffer.byteLength === STREAM_PART_BYTES && idleParts.length < MAX_IDLE_PARTS) {
          idleParts.push(new Uint8Array(buffer))
        }
      })
      .catch((error: unknown) => {
        failure ??= error
      })
      .finally(() => inFlight.delete(task))
    inFlight.add(task)
  }
  try {
    send(head, 1)
    send(second.value, 2)
    let partNumber = 2
    while (!failure) {
      if (inFlight.size >= STREAM_PARALLEL_PARTS) {
        await Promise.race(inFlight)
        continue
      }
      const next = await parts.next()
      if (next.done) break
      send(next.value, ++partNumber)
    }
    await Promise.all(inFlight)
    if (failure) throw failure
    completed.sort((a, b) => a.PartNumber - b.PartNumber)
    const completion = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: completed },
      }),
    )
    // Ceph RGW 16 answers Complete with an empty ETag; the object itself has one.
    const etag = completion.ETag || (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag
    if (!etag) throw new StorageError(`S3 returned no ETag for ${key}`)
    const stored = { key, byteSize, contentType, etag, contentMd5: whole.digest('hex'), partMd5s }
    return await heldToDigests(stored, opaqueEtag(completion), s3, bucket)
  } catch (error) {
    if (error instanceof DamagedUploadError) throw error
    await Promise.allSettled(inFlight)
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
      .catch((abortError: unknown) => console.error(`Could not abort multipart upload of ${key}`, abortError))
    throw error
  }
}

/** The stored object, once its ETag is the one its digests imply (or cannot be compared); else deleted. */
async function heldToDigests(stored: StreamedObject, opaque: boolean, s3: S3Client, bucket: string) {
  const { contentMd5, partMd5s } = stored
  const parts = partMd5s && Object.fromEntries(partMd5s.map((md5, i) => [i + 1, md5]))
  const held = holdEtag(stored.etag, { contentMd5, partMd5s: parts }, opaque)
  if (held.verdict !== 'mismatch') return stored
  await deleteObjects([stored.key], { s3, bucket }).catch((error: unknown) =>
    console.error(`Could not delete the damaged upload ${stored.key}`, error),
  )
  throw new DamagedUploadError(
    `S3 stored ${stored.key} with ETag ${stored.etag}; the bytes sent imply ${held.expected}`,
  )
}

/** Whether S3 says the object is encrypted in a way (SSE-KMS, SSE-C) under which its ETag is not an MD5. */
function opaqueEtag(output: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string }) {
  return Boolean(output.SSECustomerAlgorithm) || (output.ServerSideEncryption ?? '').startsWith('aws:kms')
}

/** Below this many bytes a file is held in the chunks it came in; past it, it gets a part buffer. */
const SMALL_FILE_BYTES = 1024 * 1024

/**
 * Re-chunks a byte stream into parts of exactly `size` bytes (the last may be shorter), reusing pooled
 * buffers. A file takes a part buffer only once it passes SMALL_FILE_BYTES, so twenty small files never
 * pin twenty part buffers; past that, each chunk is copied into the part as it arrives and let go.
 */
async function* partsOf(
  source: AsyncIterator<Uint8Array>,
  size: number,
  maxBytes: number,
  pool: Uint8Array[],
) {
  let small: Uint8Array[] = []
  let large = false
  let part: Uint8Array | null = null
  let filled = 0
  let total = 0
  for (;;) {
    const next = await source.next()
    if (next.done) break
    total += next.value.length
    if (total > maxBytes) throw new ObjectTooLargeError(`larger than ${maxBytes} bytes`)
    if (!large) {
      small.push(next.value)
      if (total < SMALL_FILE_BYTES) continue
      large = true
    }
    for (const chunk of small.length > 0 ? small : [next.value]) {
      let offset = 0
      while (offset < chunk.length) {
        part ??= pool.pop() ?? new Uint8Array(size)
        const n = Math.min(size - filled, chunk.length - offset)
        part.set(chunk.subarray(offset, offset + n), filled)
        filled += n
        offset += n
        if (filled === size) {
          yield part
          // The next buffer is taken when the next byte arrives, not before.
          part = null
          filled = 0
        }
      }
    }
    small = []
  }
  if (large) {
    if (part && filled > 0) yield part.subarray(0, filled)
  } else if (total > 0) {
    const whole = Buffer.concat(small, total)
    yield new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength)
  }
}

/** Reads an iterator to its end, discarding what it yields. */
export async function drainIterator(source: AsyncIterator<unknown>) {
  while (!(await source.next()).done) {
    // discard
  }
}
