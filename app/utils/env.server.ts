import { z } from 'zod'
import {
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_MAX_IMAGE_PIXELS,
  DEFAULT_MAX_IMAGES_PER_PRODUCT,
  DEFAULT_MULTIPART_THRESHOLD_BYTES,
  DEFAULT_UPLOAD_CONCURRENCY,
  DEFAULT_MAX_OPEN_UPLOADS_PER_ADMIN,
  DEFAULT_NEW_UPLOADS_PER_MINUTE,
  DEFAULT_NEW_UPLOADS_PER_MINUTE_PER_ADDRESS,
} from '~/uploads/limits'

const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional())
// An origin as browsers send it: lower-case scheme and host, no default port, no trailing slash.
const optionalOrigin = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z
    .url({ protocol: /^https?$/, error: 'must be an http(s) address like https://admin.example.com' })
    .refine((v) => ['', '/'].includes(new URL(v).pathname) && !new URL(v).search, {
      error: 'must be an origin only (scheme, host and port), without a path',
    })
    .transform((v) => new URL(v).origin)
    .optional(),
)
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
  APP_ORIGIN: optionalOrigin,
  /** Where the server listens; development stays on this machine unless told otherwise. */
  HOST: optionalString,
  /**
   * Which proxies may name the client address (X-Forwarded-For), as Express's `trust proxy`: unset or
   * `false` trusts none (the socket's address is the client), a number of hops, or addresses/subnets.
   */
  TRUST_PROXY: optionalString,
  /**
   * Host names (host[:port], comma-separated) the server answers to besides APP_ORIGIN's: the address a
   * proxy that rewrites Host without X-Forwarded-Host uses, say. Any other Host gets 421.
   */
  ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(
            /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/,
            'must be host or host:port names, comma-separated',
          ),
      ),
    ),
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
  /** The secret before the last rotation: still verifies cookies and image references, signs nothing. */
  SESSION_SECRET_PREVIOUS: optionalString,
  ADMIN_EMAIL: z.email(),
  ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters'),
  MAX_IMAGE_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_IMAGE_BYTES),
  MAX_IMAGE_PIXELS: z.coerce.number().int().min(1).max(268_402_689).default(DEFAULT_MAX_IMAGE_PIXELS),
  MAX_IMAGES_PER_PRODUCT: z.coerce.number().int().positive().max(100).default(DEFAULT_MAX_IMAGES_PER_PRODUCT),
  UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().min(1).max(604800).default(300),
  MULTIPART_THRESHOLD_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 * 1024, 'must be at least 5 MiB (the smallest S3 part)')
    .default(DEFAULT_MULTIPART_THRESHOLD_BYTES),
  UPLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(20).default(DEFAULT_UPLOAD_CONCURRENCY),
  /** Uploads an admin may have signed and not yet saved with a product (0: no cap). */
  MAX_OPEN_UPLOADS_PER_ADMIN: z.coerce.number().int().min(0).default(DEFAULT_MAX_OPEN_UPLOADS_PER_ADMIN),
  /** New uploads signed a minute, per admin and per client address (0: no limit). */
  NEW_UPLOADS_PER_MINUTE: z.coerce.number().int().min(0).default(DEFAULT_NEW_UPLOADS_PER_MINUTE),
  NEW_UPLOADS_PER_MINUTE_PER_ADDRESS: z.coerce
    .number()
    .int()
    .min(0)
    .default(DEFAULT_NEW_UPLOADS_PER_MINUTE_PER_ADDRESS),
  STAGING_EXPIRY_DAYS: z.coerce.number().int().min(1).default(1),
  /** A submit that S3 or PostgreSQL keeps waiting this long comes back as the form, with a message. */
  SUBMIT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(120).default(25),
  /** The web server runs a job worker too; `false` when `npm run worker` runs them apart. */
  RUN_WORKER: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** Images one process makes variants of at once (each also uses libvips' threads, one per core). */
  IMAGE_PROCESSING_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  // Only read when DATABASE_URL / S3_ENDPOINT are unset and the server starts the local services.
  LOCAL_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  LOCAL_S3_PORT: z.coerce.number().int().min(1).max(65535).default(7480),
  LOCAL_CEPH_MON_PORT: z.coerce.number().int().min(1).max(65535).default(16789),
  LOCAL_CEPH_STORE: z.enum(['bluestore', 'memstore']).default('bluestore'),
})

/** The example values `.env.example` ships: fine on a developer's machine, refused in production. */
export const EXAMPLE_SECRETS = {
  SESSION_SECRET: 'dev-only-secret-change-me-0123456789abcdef',
  ADMIN_PASSWORD: 'correct-horse-battery',
} as const

/** Below this many estimated bits a SESSION_SECRET is refused in production. */
export const MIN_SECRET_BITS = 128
const MAKE_SECRET = 'make one with `openssl rand -base64 32`'

/**
 * A conservative estimate of a secret's entropy: its length times the Shannon entropy of its own
 * characters. Random base64 of 32 bytes scores about 230; a repeated word or a short alphabet far less.
 */
export function estimateSecretBits(secret: string) {
  const counts = new Map<string, number>()
  const chars = [...secret]
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1)
  let perChar = 0
  for (const n of counts.values()) perChar -= (n / chars.length) * Math.log2(n / chars.length)
  return Math.round(perChar * chars.length)
}

const isLoopback = (origin: string) => ['localhost', '127.0.0.1', '[::1]'].includes(new URL(origin).hostname)

export type Env = z.infer<typeof EnvSchema> & { APP_ORIGIN: string; HOST: string }

/** Production's stricter rules: no example or guessable secrets, a real APP_ORIGIN. */
function checkProduction(env: z.infer<typeof EnvSchema>, ctx: z.RefinementCtx) {
  if (env.NODE_ENV !== 'production') return
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message })
  if (env.SESSION_SECRET === EXAMPLE_SECRETS.SESSION_SECRET) {
    problem('SESSION_SECRET', `is the example from .env.example, which everyone knows: ${MAKE_SECRET}`)
  } else if (estimateSecretBits(env.SESSION_SECRET) < MIN_SECRET_BITS) {
    problem(
      'SESSION_SECRET',
      `is too easy to guess (about ${estimateSecretBits(env.SESSION_SECRET)} bits, ${MIN_SECRET_BITS} needed): ${MAKE_SECRET}`,
    )
  }
  if (env.ADMIN_PASSWORD === EXAMPLE_SECRETS.ADMIN_PASSWORD) {
    problem('ADMIN_PASSWORD', 'is the example from .env.example: choose a password of your own')
  }
  if (!env.APP_ORIGIN) {
    problem('APP_ORIGIN', 'is required in production: the address admins use, like https://admin.example.com')
  } else if (new URL(env.APP_ORIGIN).protocol !== 'https:' && !isLoopback(env.APP_ORIGIN)) {
    problem(
      'APP_ORIGIN',
      'must be https in production (sessions use Secure cookies); http only for localhost',
    )
  }
}

const AppSettingsSchema = EnvSchema.superRefine(checkProduction).transform((env) => ({
  ...env,
  APP_ORIGIN: env.APP_ORIGIN ?? `http://localhost:${env.PORT}`,
  HOST: env.HOST ?? (env.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1'),
}))

/** Parses an environment, throwing one message that names every bad setting. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = AppSettingsSchema.safeParse(source)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.')
    const value = source[name]
    if ((value === undefined || value === '') && issue.code !== 'custom') return `  ${name}: is required`
    if (issue.code === 'invalid_type' && issue.expected === 'number')
      return `  ${name}: must be a number, not "${value}"`
    return `  ${name}: ${issue.message}`
  })
  throw new Error(`Invalid environment:\n${lines.join('\n')}\nSee .env.example for every setting.`)
}

export type AppEnv = Env & { DATABASE_URL: string; S3_ENDPOINT: string }

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
  cached = { ...env, DATABASE_URL: env.DATABASE_URL, S3_ENDPOINT: env.S3_ENDPOINT }
  return cached
}
