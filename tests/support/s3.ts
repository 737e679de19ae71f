import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { getEnv } from '../../app/utils/env.server'
import { getS3 } from '../../app/utils/storage.server'

/** Every key under a prefix. */
export async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await getS3().send(
      new ListObjectsV2Command({ Bucket: getEnv().S3_BUCKET, Prefix: prefix, ContinuationToken: token }),
    )
    keys.push(...(page.Contents ?? []).map((o) => o.Key!))
    token = page.NextContinuationToken
  } while (token)
  return keys
}

export async function listMultipartUploads(prefix: string) {
  const result = await getS3().send(
    new ListMultipartUploadsCommand({ Bucket: getEnv().S3_BUCKET, Prefix: prefix }),
  )
  return result.Uploads ?? []
}

/** An object's bytes and the headers S3 serves it with. */
export async function readObject(key: string) {
  const result = await getS3().send(new GetObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: key }))
  return {
    bytes: Buffer.from(await result.Body!.transformToByteArray()),
    cacheControl: result.CacheControl,
    contentType: result.ContentType,
  }
}
