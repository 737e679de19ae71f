import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible'
import { countOpenUploads } from '~/models/upload.server'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { pgStyleClient } from '~/utils/login-throttle.server'

/** Over a limit: the uploader waits `retryAfter` seconds and asks again (the route answers 429). */
export class UploadLimitError extends Error {
  override name = 'UploadLimitError'
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(message)
  }
}

export interface UploadLimitSettings {
  /** 0: no cap. */
  maxOpenPerAdmin: number
  /** New uploads a minute; 0: no limit. */
  perMinuteAdmin: number
  perMinuteAddress: number
  /** Unattached uploads older than this have expired with staging and no longer count. */
  openForMs: number
}

export function uploadLimitSettings(): UploadLimitSettings {
  const env = getEnv()
  return {
    maxOpenPerAdmin: env.MAX_OPEN_UPLOADS_PER_ADMIN,
    perMinuteAdmin: env.NEW_UPLOADS_PER_MINUTE,
    perMinuteAddress: env.NEW_UPLOADS_PER_MINUTE_PER_ADDRESS,
    openForMs: env.STAGING_EXPIRY_DAYS * 86_400_000,
  }
}

const limiters = new Map<string, RateLimiterPostgres>()

/** One store per scope and rate, in the upload_limits table (db/migrations), shared by every server. */
function limiter(scope: 'admin' | 'address', points: number) {
  const id = `${scope}:${points}`
  let found = limiters.get(id)
  if (!found) {
    found = new RateLimiterPostgres({
      storeClient: pgStyleClient(getSql()),
      storeType: 'pool',
      tableName: 'upload_limits',
      tableCreated: true,
      keyPrefix: `new-uploads-${scope}`,
      points,
      duration: 60,
    })
    limiters.set(id, found)
  }
  return found
}

const waitOf = (refusal: unknown) => {
  if (refusal instanceof RateLimiterRes) return Math.max(1, Math.ceil(refusal.msBeforeNext / 1000))
  throw refusal
}

/**
 * Counts `count` new uploads against the admin's limits before they are signed: the open (unsaved)
 * uploads cap, then the signatures a minute per admin and per client address, all kept in PostgreSQL
 * (rate-limiter-flexible), so every server shares them. Throws UploadLimitError with the wait.
 */
export async function reserveNewUploads(
  { adminId, address, count }: { adminId: number; address: string; count: number },
  settings: UploadLimitSettings = uploadLimitSettings(),
) {
  if (count === 0) return
  if (settings.maxOpenPerAdmin > 0) {
    const open = await countOpenUploads({ adminId, since: new Date(Date.now() - settings.openForMs) })
    if (open + count > settings.maxOpenPerAdmin) {
      throw new UploadLimitError(
        `You have ${open} uploads not yet saved with a product, and at most ${settings.maxOpenPerAdmin} can wait at once: save or remove some, and the rest goes on by itself.`,
        60,
      )
    }
  }
  const rates = [
    { scope: 'admin' as const, key: String(adminId), points: settings.perMinuteAdmin },
    { scope: 'address' as const, key: address, points: settings.perMinuteAddress },
  ].filter((rate) => rate.points > 0)
  for (const { points } of rates) {
    if (count > points) {
      throw new UploadLimitError(
        `At most ${points} new uploads a minute can be signed; add fewer at once.`,
        60,
      )
    }
  }
  // Both at once: each is one upsert in PostgreSQL.
  const waits = await Promise.all(
    rates.map(({ scope, key, points }) =>
      limiter(scope, points)
        .consume(key, count)
        .then(() => 0, waitOf),
    ),
  )
  const over = waits.findIndex((wait) => wait > 0)
  if (over >= 0) {
    const { scope, points } = rates[over]!
    throw new UploadLimitError(
      `More than ${points} new uploads a minute were started ${scope === 'admin' ? 'by this admin' : 'from this address'}; the uploads go on in ${waits[over]} s.`,
      waits[over]!,
    )
  }
}
