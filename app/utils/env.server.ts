import { z } from 'zod'
import {
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_MAX_IMAGES_PER_PRODUCT,
  DEFAULT_MULTIPART_THRESHOLD_BYTES,
  DEFAULT_UPLOAD_CONCURRENCY,
} from './upload-limits'

const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional())
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional())
const booleanFlag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1')

/**
 * Every setting the app reads. DATABASE_URL and S3_ENDPOINT may be unset: the server then starts
 * the local PostgreSQL and Ceph RGW and fills them in before the app reads them.
 */
export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  APP_ORIGIN: optionalUrl,
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: optionalUrl,
  S3_ENDPOINT: optionalUrl,
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .default('product-images'),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_FORCE_PATH_STYLE: booleanFlag,
  PUBLIC_BASE_URL: optionalUrl,
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters'),
  ADMIN_EMAIL: z.email(),
  ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters'),
  MAX_IMAGE_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_IMAGE_BYTES),
  MAX_IMAGES_PER_PRODUCT: z.coerce.number().int().positive().max(100).default(DEFAULT_MAX_IMAGES_PER_PRODUCT),
  UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(1).max(604800).default(300),
  MULTIPART_THRESHOLD_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 * 1024, 'must be at least 5 MiB (the smallest S3 part)')
    .default(DEFAULT_MULTIPART_THRESHOLD_BYTES),
  UPLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(20).default(DEFAULT_UPLOAD_CONCURRENCY),
  STAGING_EXPIRY_DAYS: z.coerce.number().int().min(1).default(1),
  // Only read when DATABASE_URL / S3_ENDPOINT are unset and the server starts the local services.
  LOCAL_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  LOCAL_S3_PORT: z.coerce.number().int().min(1).max(65535).default(7480),
  LOCAL_CEPH_MON_PORT: z.coerce.number().int().min(1).max(65535).default(16789),
  LOCAL_CEPH_STORE: z.enum(['bluestore', 'memstore']).default('bluestore'),
})

export type Env = z.infer<typeof EnvSchema>

/** Parses an environment, throwing one message that names every bad setting. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = EnvSchema.safeParse(source)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.')
    const value = source[name]
    if (value === undefined || value === '') return `  ${name}: is required`
    if (issue.code === 'invalid_type' && issue.expected === 'number')
      return `  ${name}: must be a number, not "${value}"`
    return `  ${name}: ${issue.message}`
  })
  throw new Error(`Invalid environment:\n${lines.join('\n')}\nSee .env.example for every setting.`)
}

export type AppEnv = Env & { DATABASE_URL: string; S3_ENDPOINT: string; APP_ORIGIN: string }

let cached: AppEnv | undefined

/** The validated settings of this process, with the local services' addresses already filled in. */
export function getEnv(): AppEnv {
  if (cached) return cached
  const env = parseEnv(process.env)
  if (!env.DATABASE_URL || !env.S3_ENDPOINT) {
    throw new Error(
      'DATABASE_URL and S3_ENDPOINT must be set (server/index.ts starts local services otherwise)',
    )
  }
  cached = {
    ...env,
    DATABASE_URL: env.DATABASE_URL,
    S3_ENDPOINT: env.S3_ENDPOINT,
    APP_ORIGIN: env.APP_ORIGIN ?? `http://localhost:${env.PORT}`,
  }
  return cached
}
