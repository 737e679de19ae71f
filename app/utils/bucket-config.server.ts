import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  S3ServiceException,
  type BucketLocationConstraint,
  type CORSRule,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3'
import { STAGING_PREFIX } from './storage.server'
import { errorMessage } from './errors'
import { appOriginAliases } from './origin'

export interface BucketPolicyOptions {
  bucket: string
  /** Origins the browser uploads from (the app's own). */
  origins: string[]
  stagingExpiryDays: number
  /** For CreateBucket on AWS outside us-east-1. */
  region?: string
}

/** What the browser needs to talk to the bucket directly: the uploader's methods, signed headers, and ETag. */
export function desiredCors(origins: string[]): CORSRule[] {
  return [
    {
      ID: 'product-images-uploader',
      AllowedOrigins: [...origins].sort(),
      AllowedMethods: ['DELETE', 'GET', 'HEAD', 'POST', 'PUT'],
      AllowedHeaders: ['*'],
      ExposeHeaders: ['ETag'],
      MaxAgeSeconds: 3600,
    },
  ]
}

export function desiredLifecycle(stagingExpiryDays: number): LifecycleRule[] {
  return [
    {
      ID: 'expire-unattached-staging',
      Status: 'Enabled',
      Filter: { Prefix: STAGING_PREFIX },
      Expiration: { Days: stagingExpiryDays },
    },
    {
      ID: 'abort-incomplete-multipart',
      Status: 'Enabled',
      Filter: { Prefix: '' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    },
  ]
}

/** The local origin and its 127.0.0.1 / localhost twin, so either address works in development. */
export function corsOriginsFor(appOrigin: string): string[] {
  return appOriginAliases(appOrigin)
}

/**
 * Brings a bucket to the configuration the app needs: it exists, is private, has the uploader's CORS
 * rule and the staging lifecycle rules. Changes only what differs and returns a line per change, so
 * running it twice changes nothing the second time.
 */
export async function configureBucket(s3: S3Client, options: BucketPolicyOptions): Promise<string[]> {
  const { bucket } = options
  const changes: string[] = []

  if (!(await bucketExists(s3, bucket))) {
    const outsideDefaultRegion = options.region && options.region !== 'us-east-1'
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: outsideDefaultRegion
          ? { LocationConstraint: options.region as BucketLocationConstraint }
          : undefined,
      }),
    )
    changes.push(`created bucket ${bucket}`)
  }

  const acl = await s3.send(new GetBucketAclCommand({ Bucket: bucket }))
  const publicGrant = (acl.Grants ?? []).some((grant) =>
    /AllUsers|AuthenticatedUsers/.test(grant.Grantee?.URI ?? ''),
  )
  if (publicGrant) {
    await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }))
    changes.push('removed public grants from the bucket ACL (now private)')
  }

  const cors = desiredCors(options.origins)
  const currentCors = await s3
    .send(new GetBucketCorsCommand({ Bucket: bucket }))
    .then((r) => r.CORSRules ?? [])
    .catch(ifCode('NoSuchCORSConfiguration', [] as CORSRule[]))
  if (canonical(currentCors.map(normalizeCors)) !== canonical(cors.map(normalizeCors))) {
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: cors } }))
    changes.push(
      `set CORS: ${options.origins.join(', ')} may ${cors[0]!.AllowedMethods!.join(', ')}, exposing ETag`,
    )
  }

  const lifecycle = desiredLifecycle(options.stagingExpiryDays)
  const currentLifecycle = await s3
    .send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))
    .then((r) => r.Rules ?? [])
    .catch(ifCode('NoSuchLifecycleConfiguration', [] as LifecycleRule[]))
  if (canonical(currentLifecycle.map(normalizeRule)) !== canonical(lifecycle.map(normalizeRule))) {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: lifecycle },
      }),
    )
    changes.push(
      `set lifecycle: expire ${STAGING_PREFIX}* after ${options.stagingExpiryDays} day(s), ` +
        'abort incomplete multipart uploads after 1 day',
    )
  }
  return changes
}

async function bucketExists(s3: S3Client, bucket: string) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }))
    return true
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return false
    throw error
  }
}

function ifCode<T>(code: string, fallback: T) {
  return (error: unknown): T => {
    if (
      error instanceof S3ServiceException &&
      (error.name === code || (error as { Code?: string }).Code === code)
    ) {
      return fallback
    }
    throw error
  }
}

function normalizeCors(rule: CORSRule) {
  const lower = (values?: string[]) => (values ?? []).map((v) => v.toLowerCase()).sort()
  return {
    origins: [...(rule.AllowedOrigins ?? [])].sort(),
    methods: [...(rule.AllowedMethods ?? [])].sort(),
    headers: lower(rule.AllowedHeaders),
    expose: lower(rule.ExposeHeaders),
    maxAge: rule.MaxAgeSeconds ?? null,
  }
}

function normalizeRule(rule: LifecycleRule) {
  return {
    id: rule.ID ?? null,
    status: rule.Status,
    prefix: rule.Filter?.Prefix ?? rule.Prefix ?? '',
    expirationDays: rule.Expiration?.Days ?? null,
    abortDays: rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? null,
  }
}

function canonical(value: unknown[]) {
  return JSON.stringify(value.map((v) => JSON.stringify(v)).sort())
}

const UPLOADER_METHODS = ['PUT', 'POST', 'GET', 'DELETE', 'HEAD']

/**
 * What stops the browser uploader from working with this bucket, in words an operator can act on:
 * the bucket does not answer, or no CORS rule lets the app's origin send the uploader's requests with
 * a Content-Type header and read ETag. An empty list means all is well.
 */
export async function checkBucket(s3: S3Client, { bucket, origins }: { bucket: string; origins: string[] }) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }))
  } catch (error) {
    return [
      `bucket ${bucket} does not answer: ${error instanceof Error ? error.name : ''} ${errorMessage(error)}`.trim(),
    ]
  }
  const rules = await s3
    .send(new GetBucketCorsCommand({ Bucket: bucket }))
    .then((r) => r.CORSRules ?? [])
    .catch(ifCode('NoSuchCORSConfiguration', [] as CORSRule[]))
  const problems: string[] = []
  for (const origin of origins) {
    const matching = rules.filter((rule) =>
      (rule.AllowedOrigins ?? []).some((o) => o === '*' || o === origin),
    )
    if (matching.length === 0) {
      problems.push(`no CORS rule allows the origin ${origin}`)
      continue
    }
    const methods = new Set(matching.flatMap((rule) => rule.AllowedMethods ?? []))
    const missing = UPLOADER_METHODS.filter((m) => !methods.has(m))
    if (missing.length > 0) problems.push(`CORS for ${origin} does not allow ${missing.join(', ')}`)
    const headers = matching.flatMap((rule) => (rule.AllowedHeaders ?? []).map((h) => h.toLowerCase()))
    for (const header of ['content-type', 'content-md5']) {
      if (!headers.includes('*') && !headers.includes(header)) {
        problems.push(
          `CORS for ${origin} does not allow the ${header === 'content-md5' ? 'Content-MD5' : 'Content-Type'} header`,
        )
      }
    }
    const exposed = matching.flatMap((rule) => (rule.ExposeHeaders ?? []).map((h) => h.toLowerCase()))
    if (!exposed.includes('etag'))
      problems.push(`CORS for ${origin} does not expose ETag (multipart uploads need it)`)
  }
  return problems
}
