import { GetObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3'
import { getEnv } from '~/utils/env.server'
import {
  getS3,
  isNotFound,
  ObjectChangedError,
  ObjectTooLargeError,
  sameEtag,
  VARIANTS_PREFIX,
} from '~/utils/storage.server'
import { VARIANT_MIME, type VariantFormat } from './variants'

/** Variant objects never change (new bytes get a new key), so anything may cache them for a year. */
export const VARIANT_CACHE_CONTROL = 'public, max-age=31536000, immutable'

/**
 * Where a variant lives: under the image's processing id and a generation made fresh for each run, so
 * remade variants get new keys and no cache ever serves stale bytes.
 */
export function variantKey(processingId: string, generation: string, width: number, format: VariantFormat) {
  return `${VARIANTS_PREFIX}${processingId}/${generation}/${width}.${format}`
}

/**
 * The whole of an original, or null when there is no such object. With `ifMatch` only the bytes that
 * were checked (else ObjectChangedError); past `maxBytes` ObjectTooLargeError, before reading it.
 */
export async function readOriginal(
  key: string,
  { ifMatch, maxBytes }: { ifMatch?: string | null; maxBytes: number },
): Promise<Buffer | null> {
  try {
    const result = await getS3().send(
      new GetObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: key, IfMatch: ifMatch ?? undefined }),
    )
    if ((result.ContentLength ?? 0) > maxBytes) {
      result.Body?.transformToWebStream()
        .cancel()
        .catch(() => {})
      throw new ObjectTooLargeError(`${key} is larger than ${maxBytes} bytes`)
    }
    // Not every engine honours If-Match; the answer names the ETag of what it sent.
    if (ifMatch && result.ETag && !sameEtag(result.ETag, ifMatch)) {
      result.Body?.transformToWebStream()
        .cancel()
        .catch(() => {})
      throw new ObjectChangedError(`${key} changed after it was checked`)
    }
    return Buffer.from(await result.Body!.transformToByteArray())
  } catch (error) {
    if (isNotFound(error)) return null
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412) {
      throw new ObjectChangedError(`${key} changed after it was checked`)
    }
    throw error
  }
}

export async function putVariant(key: string, data: Buffer, format: VariantFormat) {
  await getS3().send(
    new PutObjectCommand({
      Bucket: getEnv().S3_BUCKET,
      Key: key,
      Body: data,
      ContentType: VARIANT_MIME[format],
      CacheControl: VARIANT_CACHE_CONTROL,
      ContentDisposition: 'inline',
    }),
  )
}
