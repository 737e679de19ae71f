import { randomUUID } from 'node:crypto'
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { getEnv, type Env } from './env.server'
import { createPresigner, type Presigner } from './presign.server'
import { IMAGE_EXTENSIONS, type ImageType } from '~/uploads/image-types'

export interface S3Settings {
  endpoint: string
  region: string
  forcePathStyle: boolean
  accessKeyId?: string
  secretAccessKey?: string
}

/** An S3 client for any S3 engine; without keys it uses the AWS SDK's default credential chain. */
export function createS3Client(settings: S3Settings): S3Client {
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials:
      settings.accessKeyId && settings.secretAccessKey
        ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
        : undefined,
    // Otherwise the SDK signs a CRC32 of an empty body into presigned URLs and sends trailers
    // that not every S3 engine accepts.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A socket silent this long is dead, and a request is tried twice at most: a stalled S3 costs a
    // submit about 30 s before the admin hears so (SUBMIT_TIMEOUT_SECONDS answers sooner still).
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
    maxAttempts: 2,
  })
  if (new URL(settings.endpoint).protocol === 'http:') {
    // Over HTTPS the SDK already signs UNSIGNED-PAYLOAD; over plain HTTP (the local engine) it would
    // hash every part body first, which costs a third of the streaming throughput on one core.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> }
        if (request.headers && !request.headers['x-amz-content-sha256']) {
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'
        }
        return next(args)
      },
      { step: 'build', name: 'unsignedPayloadOverHttp' },
    )
  }
  return client
}

/** A client for the bucket the settings name (S3_ENDPOINT must be set by then). */
export function createS3ClientFromEnv(env: Env): S3Client {
  if (!env.S3_ENDPOINT) throw new Error('S3_ENDPOINT is not set')
  return createS3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY,
  })
}

let client: S3Client | undefined

export function getS3(): S3Client {
  client ??= createS3ClientFromEnv(getEnv())
  return client
}

export const STAGING_PREFIX = 'staging/'

/** Where an admin's not-yet-attached uploads live; the lifecycle rule expires this prefix. */
export function stagingPrefix(adminId: number) {
  return `${STAGING_PREFIX}${adminId}/`
}

export function newStagingKey(adminId: number, type: ImageType) {
  return `${stagingPrefix(adminId)}${randomUUID()}.${IMAGE_EXTENSIONS[type]}`
}

/** Attached originals: private, never shown on a page, downloaded by admins only (presigned). */
export const ORIGINALS_PREFIX = 'originals/'

/** Processed variants: the only prefix a CDN at PUBLIC_BASE_URL may serve. */
export const VARIANTS_PREFIX = 'variants/'

export function newProductImageKey(productId: string, type: ImageType) {
  return `${ORIGINALS_PREFIX}${productId}/${randomUUID()}.${IMAGE_EXTENSIONS[type]}`
}

export class StorageError extends Error {
  override name = 'StorageError'
}

export class ObjectTooLargeError extends Error {
  override name = 'ObjectTooLargeError'
}

/** The source of a conditional copy is no longer the object that was checked (its ETag changed). */
export class ObjectChangedError extends Error {
  override name = 'ObjectChangedError'
}

export interface ObjectInfo {
  byteSize: number
  contentType: string | undefined
  etag: string | undefined
}

/** Size and type of an object, or null when it does not exist. */
export async function headObject(key: string): Promise<ObjectInfo | null> {
  try {
    const result = await getS3().send(new HeadObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: key }))
    return { byteSize: result.ContentLength ?? 0, contentType: result.ContentType, etag: result.ETag }
  } catch (error) {
    if (isNotFound(error)) return null
    throw error
  }
}

/**
 * The first `bytes` bytes of an object with its whole size and type, in one request (a ranged GET's
 * Content-Range carries the total); null when it does not exist. `opaqueEtag` says the engine reported
 * encryption (SSE-KMS, SSE-C) under which, on AWS, an ETag is not the MD5 of the bytes.
 */
export async function readObjectStart(
  key: string,
  bytes: number,
): Promise<(ObjectInfo & { head: Uint8Array; opaqueEtag: boolean }) | null> {
  try {
    const result = await getS3().send(
      new GetObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: key, Range: `bytes=0-${bytes - 1}` }),
    )
    const head = result.Body ? await result.Body.transformToByteArray() : new Uint8Array(0)
    const total = Number(/\/(\d+)$/.exec(result.ContentRange ?? '')?.[1] ?? head.length)
    const opaqueEtag =
      Boolean(result.SSECustomerAlgorithm) || (result.ServerSideEncryption ?? '').startsWith('aws:kms')
    return { byteSize: total, contentType: result.ContentType, etag: result.ETag, head, opaqueEtag }
  } catch (error) {
    if (isNotFound(error)) return null
    // A range of an empty object is unsatisfiable: the object exists and has no bytes.
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 416) {
      return {
        byteSize: 0,
        contentType: undefined,
        etag: undefined,
        head: new Uint8Array(0),
        opaqueEtag: false,
      }
    }
    throw error
  }
}

/**
 * `length` bytes of an object from `start`, only while it is still the object with `ifMatch` as its
 * ETag (ObjectChangedError otherwise): for headers that lie past the first bytes (a HEIF whose meta box
 * follows its image data).
 */
export async function readObjectRange(key: string, start: number, length: number, ifMatch: string) {
  try {
    const result = await getS3().send(
      new GetObjectCommand({
        Bucket: getEnv().S3_BUCKET,
        Key: key,
        Range: `bytes=${start}-${start + length - 1}`,
        IfMatch: ifMatch,
      }),
    )
    return result.Body ? await result.Body.transformToByteArray() : new Uint8Array(0)
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) {
      throw new ObjectChangedError(key)
    }
    throw error
  }
}

/**
 * Server-side copy inside the bucket (the bytes never pass through this process), only if the source is
 * still the object whose ETag was checked, else ObjectChangedError. `ifMatch` is the ETag the upload's
 * digests imply where the engine's ETags are MD5-based (checkStagedUpload), so the copy is held to the
 * bytes the browser hashed. The copy gets the type the server sniffed and none of the metadata the
 * uploader chose.
 */
export async function copyObject({
  from,
  to,
  ifMatch,
  contentType,
}: {
  from: string
  to: string
  ifMatch: string
  contentType: string
}) {
  const bucket = getEnv().S3_BUCKET
  let copiedEtag: string | undefined
  try {
    const result = await getS3().send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: to,
        CopySource: `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
        CopySourceIfMatch: ifMatch,
        MetadataDirective: 'REPLACE',
        ContentType: contentType,
        ContentDisposition: 'inline',
      }),
    )
    copiedEtag = result.CopyObjectResult?.ETag
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) {
      throw new ObjectChangedError(`${from} changed after it was checked`)
    }
    throw error
  }
  // Not every engine honours the precondition (Ceph RGW 16 reads another header name, tracker 53945).
  // A copy keeps its source's ETag, except that AWS gives a copy of a multipart object a plain MD5.
  const recomputed = ifMatch.includes('-') && !(copiedEtag ?? '').includes('-')
  if (copiedEtag && !recomputed && !sameEtag(copiedEtag, ifMatch)) {
    throw new ObjectChangedError(`${from} changed after it was checked`)
  }
}

/** Deletes keys, 1000 a request; throws if S3 refused any of them. */
export async function deleteObjects(
  keys: readonly string[],
  options: { s3?: S3Client; bucket?: string } = {},
) {
  const { failed } = await deleteObjectsEach(keys, options)
  if (failed.length > 0) {
    throw new StorageError(`S3 refused to delete ${failed.map((f) => `${f.key} (${f.error})`).join(', ')}`)
  }
}

/**
 * Deletes keys, 1000 a request, and says which S3 confirmed (a key already gone counts as deleted) and
 * which it refused, with why. Throws only when a request as a whole fails.
 */
export async function deleteObjectsEach(
  keys: readonly string[],
  { s3 = getS3(), bucket = getEnv().S3_BUCKET }: { s3?: S3Client; bucket?: string } = {},
): Promise<{ deleted: string[]; failed: { key: string; error: string }[] }> {
  const deleted: string[] = []
  const failed: { key: string; error: string }[] = []
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000)
    const result = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    )
    const refused = new Map(
      (result.Errors ?? [])
        .filter((e) => e.Code !== 'NoSuchKey' && e.Key)
        .map((e) => [e.Key!, `${e.Code ?? 'Error'}: ${e.Message ?? 'refused'}`]),
    )
    for (const key of batch) {
      const error = refused.get(key)
      if (error) failed.push({ key, error })
      else deleted.push(key)
    }
  }
  return { deleted, failed }
}

let presigner: Presigner | undefined

/** The app's presigner for its bucket: view URLs (app/images/urls.server.ts) and upload URLs (app/uploads/signing.server.ts). */
export function getPresigner(): Presigner {
  const env = getEnv()
  presigner ??= createPresigner({
    s3: getS3(),
    endpoint: env.S3_ENDPOINT,
    bucket: env.S3_BUCKET,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
  })
  return presigner
}

/** ETags compare without their quotes (engines differ in whether they send them). */
export function sameEtag(a: string, b: string) {
  return a.replace(/"/g, '') === b.replace(/"/g, '')
}

export function isNotFound(error: unknown) {
  return (
    error instanceof S3ServiceException &&
    (error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey')
  )
}

/** The origin browsers reach the bucket at (path-style or virtual-hosted), for the CSP. */
export async function bucketOrigin(): Promise<string> {
  return new URL(await getPresigner().presign({ method: 'GET', key: 'origin', expiresIn: 60 })).origin
}
