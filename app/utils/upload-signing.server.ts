import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { z } from 'zod'
import type { Admin } from '~/models/admin.server'
import { getUpload, recordUpload } from '~/models/upload.server'
import { getEnv } from './env.server'
import { getS3, newStagingKey, stagingPrefix } from './storage.server'
import { refExpiry, signUploadRef } from './upload-ref.server'
import { ALLOWED_IMAGE_TYPES, ALLOWED_TYPES_LABEL, formatBytes, partLayout } from './upload-limits'

const NewUpload = {
  fileName: z.string().trim().min(1).max(255),
  contentType: z.enum(ALLOWED_IMAGE_TYPES, { error: `Only ${ALLOWED_TYPES_LABEL} images can be uploaded.` }),
  size: z.number().int().min(1, 'The file is empty.'),
}
const Existing = { key: z.string().min(1).max(1024), uploadId: z.string().min(1).max(1024) }

/** Every request the browser uploader may have signed; anything else is refused with 400. */
export const SignRequestSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('putObject'), ...NewUpload }),
  z.object({ operation: z.literal('createMultipartUpload'), ...NewUpload }),
  z.object({
    operation: z.literal('uploadPart'),
    ...Existing,
    partNumber: z.number().int().min(1).max(10_000),
  }),
  z.object({ operation: z.literal('listParts'), ...Existing }),
  z.object({ operation: z.literal('completeMultipartUpload'), ...Existing }),
  z.object({ operation: z.literal('abortMultipartUpload'), ...Existing }),
])
export type SignRequest = z.infer<typeof SignRequestSchema>

export interface SignedRequest {
  method: 'PUT' | 'POST' | 'GET' | 'DELETE'
  url: string
  /** The key the server chose; returned for new uploads. */
  key?: string
  /** Headers the browser must send as signed (Content-Length is set by the browser itself). */
  headers?: Record<string, string>
  /** For new uploads: the signed reference the form submits once the upload has finished. */
  ref?: string
}

export class SignError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 413,
    message: string,
  ) {
    super(message)
  }
}

export interface SigningDeps {
  s3: S3Client
  bucket: string
  ttlSeconds: number
  maxImageBytes: number
}

function defaultDeps(): SigningDeps {
  const env = getEnv()
  return {
    s3: getS3(),
    bucket: env.S3_BUCKET,
    ttlSeconds: env.UPLOAD_URL_TTL_SECONDS,
    maxImageBytes: env.MAX_IMAGE_BYTES,
  }
}

/**
 * Signs one S3 request for the browser uploader. New uploads get a key the server chooses in the admin's
 * staging namespace; every later request must name such a key that was issued to this admin. S3 itself
 * then enforces the limits: Content-Type is signed, single uploads sign their exact Content-Length, each
 * part signs its exact length from the declared size, and Complete is signed only after the server has
 * listed the parts and found their total within MAX_IMAGE_BYTES.
 */
export async function signUploadRequest(
  request: SignRequest,
  admin: Admin,
  deps: SigningDeps = defaultDeps(),
): Promise<SignedRequest> {
  const { s3, bucket, ttlSeconds, maxImageBytes } = deps
  const signing = (signed: string[] = []) => ({ expiresIn: ttlSeconds, signableHeaders: new Set(signed) })

  switch (request.operation) {
    case 'putObject':
    case 'createMultipartUpload': {
      const { fileName, contentType, size } = request
      if (size > maxImageBytes) {
        throw new SignError(
          413,
          `${fileName} is larger than ${formatBytes(maxImageBytes)}, the limit for one image.`,
        )
      }
      const key = newStagingKey(admin.id, contentType)
      const multipart = request.operation === 'createMultipartUpload'
      await recordUpload({ key, adminId: admin.id, fileName, contentType, declaredSize: size, multipart })
      const ref = signUploadRef({ key, adminId: admin.id, contentType, fileName, expiresAt: refExpiry() })
      const headers = { 'content-type': contentType }
      if (!multipart) {
        const url = await getSignedUrl(
          s3,
          new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType, ContentLength: size }),
          signing(['content-type', 'content-length']),
        )
        return { method: 'PUT', url, key, headers, ref }
      }
      const url = await getSignedUrl(
        s3,
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
        signing(['content-type']),
      )
      return { method: 'POST', url, key, headers, ref }
    }
    case 'uploadPart': {
      const upload = await requireOwnMultipart(request.key, admin)
      const { length, count } = partLayout(upload.declaredSize, request.partNumber)
      if (length === null) {
        throw new SignError(
          400,
          `Part ${request.partNumber} is out of range: this upload has ${count} parts.`,
        )
      }
      const url = await getSignedUrl(
        s3,
        new UploadPartCommand({
          Bucket: bucket,
          Key: request.key,
          UploadId: request.uploadId,
          PartNumber: request.partNumber,
          ContentLength: length,
        }),
        signing(['content-length']),
      )
      return { method: 'PUT', url }
    }
    case 'listParts': {
      await requireOwnMultipart(request.key, admin)
      const url = await getSignedUrl(
        s3,
        new ListPartsCommand({ Bucket: bucket, Key: request.key, UploadId: request.uploadId }),
        signing(),
      )
      return { method: 'GET', url }
    }
    case 'completeMultipartUpload': {
      const upload = await requireOwnMultipart(request.key, admin)
      const total = await uploadedBytes(s3, bucket, request.key, request.uploadId)
      if (total > maxImageBytes) {
        await s3.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: request.key, UploadId: request.uploadId }),
        )
        throw new SignError(
          413,
          `${upload.fileName} is larger than ${formatBytes(maxImageBytes)}, the limit for one image; its upload was cancelled.`,
        )
      }
      const url = await getSignedUrl(
        s3,
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: request.key, UploadId: request.uploadId }),
        signing(),
      )
      return { method: 'POST', url }
    }
    case 'abortMultipartUpload': {
      await requireOwnMultipart(request.key, admin)
      const url = await getSignedUrl(
        s3,
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: request.key, UploadId: request.uploadId }),
        signing(),
      )
      return { method: 'DELETE', url }
    }
  }
}

const STAGING_KEY =
  /^staging\/(\d+)\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(jpg|png|webp|gif|avif)$/

async function requireOwnMultipart(key: string, admin: Admin) {
  if (!key.startsWith(stagingPrefix(admin.id)) || !STAGING_KEY.test(key)) {
    throw new SignError(403, 'That key is outside your upload namespace.')
  }
  const upload = await getUpload({ key, adminId: admin.id })
  if (!upload) throw new SignError(403, 'That upload was not started by you.')
  if (!upload.multipart) throw new SignError(400, 'That upload is not a multipart upload.')
  return upload
}

/** The bytes S3 holds for a multipart upload so far, over every page of ListParts. */
async function uploadedBytes(s3: S3Client, bucket: string, key: string, uploadId: string) {
  let total = 0
  let marker: string | undefined
  for (;;) {
    const page = await s3.send(
      new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
    )
    total += (page.Parts ?? []).reduce((sum, part) => sum + (part.Size ?? 0), 0)
    if (!page.IsTruncated) return total
    marker = page.NextPartNumberMarker
  }
}
