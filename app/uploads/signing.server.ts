import { LRUCache } from 'lru-cache'
import { AbortMultipartUploadCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3'
import { z } from 'zod'
import { Md5HexSchema, type BatchItem, type SignedRequest } from './signing-protocol'
import type { Admin } from '~/models/admin.server'
import { bindUploadId, recordPartDigests, recordUpload } from '~/models/upload.server'
import { getEnv } from '~/utils/env.server'
import type { Presigner } from '~/utils/presign.server'
import { cleanFileName } from '~/utils/text'
import { getPresigner, getS3, isNotFound, newStagingKey, stagingPrefix } from '~/utils/storage.server'
import { refExpiry, signUploadRef, verifyUploadRef } from './refs.server'
import { formatBytes, MAX_SIGN_BATCH, partLayout } from './limits'
import { ALLOWED_IMAGE_TYPES, ALLOWED_TYPES_LABEL, EXTENSION_PATTERN, UUID_PATTERN } from './image-types'

const NewUpload = {
  fileName: z.string().max(1024).transform(cleanFileName).pipe(z.string().min(1, 'The file has no name.')),
  contentType: z.enum(ALLOWED_IMAGE_TYPES, { error: `Only ${ALLOWED_TYPES_LABEL} images can be uploaded.` }),
  size: z.number().int().min(1, 'The file is empty.'),
}
/** Later requests name the upload's key and carry the reference issued with it, which proves who started it. */
const Existing = {
  key: z.string().min(1).max(1024),
  // What S3 issues: printable ASCII (and so never a NUL, which PostgreSQL would refuse).
  uploadId: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[!-~]+$/, 'not an upload id'),
  ref: z.string().min(1).max(4096),
}

/**
 * Every request the browser uploader may have signed; anything else is refused with 400. A single PUT
 * and a part carry the MD5 of their bytes; it is optional so that pages loaded before digests existed
 * keep uploading (their uploads are checked as before).
 */
export const SignRequestSchema = z.discriminatedUnion('operation', [
  z.object({ operation: z.literal('putObject'), ...NewUpload, md5: Md5HexSchema.optional() }),
  z.object({ operation: z.literal('createMultipartUpload'), ...NewUpload }),
  z.object({
    operation: z.literal('uploadPart'),
    ...Existing,
    partNumber: z.number().int().min(1).max(10_000),
    md5: Md5HexSchema.optional(),
  }),
  z.object({ operation: z.literal('listParts'), ...Existing }),
  z.object({ operation: z.literal('completeMultipartUpload'), ...Existing }),
  z.object({ operation: z.literal('abortMultipartUpload'), ...Existing }),
])
export type SignRequest = z.infer<typeof SignRequestSchema>

/**
 * Several requests signed in one round trip: the uploader signs every file of a dropped batch, and all
 * the parts of a multipart upload, ahead of time. Only requests whose URLs can wait are allowed.
 */
export const SignBatchSchema = z.object({
  operation: z.literal('batch'),
  requests: z
    .array(
      z.discriminatedUnion('operation', [
        SignRequestSchema.options[0],
        SignRequestSchema.options[1],
        SignRequestSchema.options[2],
      ]),
    )
    .min(1)
    .max(MAX_SIGN_BATCH),
})

/**
 * Signs each request of a batch on its own; one refusal does not spoil the others. The parts' digests
 * are recorded together, one statement per upload, before any of their URLs is answered.
 */
export async function signUploadBatch(
  requests: SignRequest[],
  admin: Admin,
  deps: SigningDeps = defaultSigningDeps(),
): Promise<{ results: BatchItem[] }> {
  const digests: PartDigest[] = []
  const results = await Promise.all(
    requests.map((request) =>
      signRequest(request, admin, deps, digests).catch((error: unknown): BatchItem => {
        if (error instanceof SignError) return { error: error.message, status: error.status }
        throw error
      }),
    ),
  )
  const byKey = new Map<string, PartDigest[]>()
  for (const digest of digests) byKey.set(digest.key, [...(byKey.get(digest.key) ?? []), digest])
  await Promise.all([...byKey].map(([key, parts]) => recordPartDigests({ key, adminId: admin.id, parts })))
  return { results }
}

type PartDigest = { key: string; partNumber: number; md5: string }

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
  presigner: Presigner
  bucket: string
  ttlSeconds: number
  maxImageBytes: number
}

export function defaultSigningDeps(): SigningDeps {
  const env = getEnv()
  return {
    s3: getS3(),
    presigner: getPresigner(),
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
  deps: SigningDeps = defaultSigningDeps(),
): Promise<SignedRequest> {
  const digests: PartDigest[] = []
  const signed = await signRequest(request, admin, deps, digests)
  const [part] = digests
  if (part) await recordPartDigests({ key: part.key, adminId: admin.id, parts: digests })
  return signed
}

/** signUploadRequest, leaving the recording of a part's digest to the caller (`digests`). */
async function signRequest(
  request: SignRequest,
  admin: Admin,
  deps: SigningDeps,
  digests: PartDigest[],
): Promise<SignedRequest> {
  const { s3, bucket, ttlSeconds, maxImageBytes } = deps
  const presign = (target: Omit<Parameters<Presigner['presign']>[0], 'expiresIn'>) =>
    deps.presigner.presign({ ...target, expiresIn: ttlSeconds })

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
      const contentMd5 = request.operation === 'putObject' ? request.md5 : undefined
      await recordUpload({
        key,
        adminId: admin.id,
        fileName,
        contentType,
        declaredSize: size,
        multipart,
        contentMd5,
      })
      const ref = signUploadRef({
        key,
        adminId: admin.id,
        contentType,
        fileName,
        size,
        expiresAt: refExpiry(),
      })
      const headers = { 'content-type': contentType }
      if (!multipart) {
        // The browser sets Content-Length itself; signing it makes S3 refuse any other size, as the
        // signed Content-MD5 makes it refuse any other bytes.
        const sent = { ...headers, ...contentMd5Header(contentMd5) }
        const url = await presign({
          method: 'PUT',
          key,
          headers: { ...sent, 'content-length': String(size) },
        })
        return { method: 'PUT', url, key, headers: sent, ref }
      }
      const url = await presign({ method: 'POST', key, query: { uploads: '' }, headers })
      return { method: 'POST', url, key, headers, ref }
    }
    case 'uploadPart': {
      const upload = await requireOwnMultipart(request, admin)
      const { length, count } = partLayout(upload.size, request.partNumber)
      if (length === null) {
        throw new SignError(
          400,
          `Part ${request.partNumber} is out of range: this upload has ${count} parts.`,
        )
      }
      const headers = contentMd5Header(request.md5)
      const url = await presign({
        method: 'PUT',
        key: request.key,
        query: { partNumber: String(request.partNumber), uploadId: request.uploadId },
        headers: { ...headers, 'content-length': String(length) },
      })
      if (request.md5) digests.push({ key: request.key, partNumber: request.partNumber, md5: request.md5 })
      return { method: 'PUT', url, headers }
    }
    case 'listParts': {
      await requireOwnMultipart(request, admin)
      const url = await presign({ method: 'GET', key: request.key, query: { uploadId: request.uploadId } })
      return { method: 'GET', url }
    }
    case 'completeMultipartUpload': {
      const upload = await requireOwnMultipart(request, admin)
      const total = await uploadedBytes(s3, bucket, request.key, request.uploadId).catch((error: unknown) => {
        if (isNotFound(error) || (error instanceof Error && error.name === 'NoSuchUpload')) {
          throw new SignError(
            404,
            `${upload.fileName} is no longer being uploaded (finished or cancelled); add it again.`,
          )
        }
        throw error
      })
      if (total > maxImageBytes) {
        await s3.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: request.key, UploadId: request.uploadId }),
        )
        throw new SignError(
          413,
          `${upload.fileName} is larger than ${formatBytes(maxImageBytes)}, the limit for one image; its upload was cancelled.`,
        )
      }
      const url = await presign({ method: 'POST', key: request.key, query: { uploadId: request.uploadId } })
      return { method: 'POST', url }
    }
    case 'abortMultipartUpload': {
      await requireOwnMultipart(request, admin)
      const url = await presign({ method: 'DELETE', key: request.key, query: { uploadId: request.uploadId } })
      return { method: 'DELETE', url }
    }
  }
}

/** The header S3 checks a body against (base64 of the binary digest); none without a digest. */
function contentMd5Header(md5: string | undefined): Record<string, string> {
  return md5 ? { 'content-md5': Buffer.from(md5, 'hex').toString('base64') } : {}
}

const STAGING_KEY = new RegExp(`^staging/(\\d+)/${UUID_PATTERN}\\.${EXTENSION_PATTERN}$`)

/** The key must be in this admin's namespace and the reference must be the one issued with it. */
function requireOwnUpload({ key, ref }: { key: string; ref: string }, admin: Admin) {
  if (!key.startsWith(stagingPrefix(admin.id)) || !STAGING_KEY.test(key)) {
    throw new SignError(403, 'That key is outside your upload namespace.')
  }
  const check = verifyUploadRef(ref, admin.id)
  if (!check.ok || check.ref.key !== key) throw new SignError(403, 'That upload was not started by you.')
  return check.ref
}

// Bindings never change once made, so a part's check needs the database only the first time.
const boundUploadIds = new LRUCache<string, string>({ max: 10_000 })

/** requireOwnUpload, and the upload id must be the one first signed for this key (see bindUploadId). */
async function requireOwnMultipart(request: { key: string; ref: string; uploadId: string }, admin: Admin) {
  const upload = requireOwnUpload(request, admin)
  const bound = boundUploadIds.get(request.key)
  if (bound === request.uploadId) return upload
  if (bound !== undefined || !(await bindUploadId({ ...request, adminId: admin.id }))) {
    throw new SignError(403, 'That upload id does not belong to this upload.')
  }
  boundUploadIds.set(request.key, request.uploadId)
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
