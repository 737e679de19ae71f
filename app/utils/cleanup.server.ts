import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3'
import { forgetUnattachedUploads } from '~/models/upload.server'
import type { Sql } from './db.server'
import { deleteObjects, STAGING_PREFIX } from './storage.server'

export interface CleanupReport {
  deletedObjects: number
  abortedUploads: number
  forgottenUploads: number
}

/**
 * Removes what uploads left behind under `prefix` (default: all of staging/) that is older than
 * `olderThanMs`: staging objects never attached, incomplete multipart uploads, and the unattached
 * `uploads` rows that named them. Attached images live under originals/ (their variants under variants/) and are never looked at.
 * The bucket's lifecycle rules do the same on their own schedule; this runs on demand. Every step is
 * idempotent (a key or upload already gone is not an error), so several machines may run it at once.
 */
export async function cleanupStaging({
  s3,
  bucket,
  sql,
  olderThanMs,
  prefix = STAGING_PREFIX,
  now = Date.now(),
}: {
  s3: S3Client
  bucket: string
  sql: Sql
  olderThanMs: number
  prefix?: string
  now?: number
}): Promise<CleanupReport> {
  if (!prefix.startsWith(STAGING_PREFIX))
    throw new Error(`cleanup only touches ${STAGING_PREFIX}, not ${prefix}`)
  const cutoff = now - olderThanMs
  const report: CleanupReport = { deletedObjects: 0, abortedUploads: 0, forgottenUploads: 0 }

  let token: string | undefined
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    )
    const old = (page.Contents ?? []).filter(
      (o) => o.Key && o.LastModified && o.LastModified.getTime() < cutoff,
    )
    await deleteObjects(
      old.map((o) => o.Key!),
      { s3, bucket },
    )
    report.deletedObjects += old.length
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)

  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  for (;;) {
    const page = await s3.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    )
    for (const upload of page.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated.getTime() >= cutoff)
        continue
      try {
        await s3.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
        )
        report.abortedUploads += 1
      } catch (error) {
        // Another machine got there first.
        if (!(error instanceof S3ServiceException && error.name === 'NoSuchUpload')) throw error
      }
    }
    if (!page.IsTruncated) break
    keyMarker = page.NextKeyMarker
    uploadIdMarker = page.NextUploadIdMarker
  }

  report.forgottenUploads = await forgetUnattachedUploads({ sql, before: new Date(cutoff), prefix })
  return report
}
