import { HeadBucketCommand } from '@aws-sdk/client-s3'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { errorMessage } from '~/utils/errors'
import { getS3 } from '~/utils/storage.server'

/** How long one check answers every probe: a flood of probes costs one query and one HEAD per period. */
export const HEALTH_CACHE_MS = 2_000
const CHECK_TIMEOUT_MS = 3_000

type Status = 'ok' | 'unavailable'
let last: { at: number; result: Promise<{ database: Status; storage: Status }> } | undefined

/** ok, or unavailable with the reason in the server's log only: error text names hosts and users. */
async function probe(name: string, check: () => Promise<unknown>): Promise<Status> {
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS)
  const timedOut = new Promise<never>((_, reject) =>
    signal.addEventListener('abort', () => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`))),
  )
  try {
    await Promise.race([check(), timedOut])
    return 'ok'
  } catch (error) {
    console.error(`[healthz] ${name} unavailable: ${errorMessage(error)}`)
    return 'unavailable'
  }
}

function check() {
  return Promise.all([
    probe('database', () => getSql()`select 1`),
    probe('storage', () => getS3().send(new HeadBucketCommand({ Bucket: getEnv().S3_BUCKET }))),
  ]).then(([database, storage]) => ({ database, storage }))
}

/** 200 when PostgreSQL and the bucket both answer, 503 otherwise; says which, never why. */
export async function loader() {
  const now = Date.now()
  if (!last || now - last.at >= HEALTH_CACHE_MS) last = { at: now, result: check() }
  const status = await last.result
  const healthy = status.database === 'ok' && status.storage === 'ok'
  return Response.json(status, { status: healthy ? 200 : 503, headers: { 'Cache-Control': 'no-store' } })
}
