import { checkServices } from '~/utils/availability.server'

/** How long one check answers every probe: a flood of probes costs one query and one HEAD per period. */
export const HEALTH_CACHE_MS = 2_000

let last: { at: number; result: ReturnType<typeof checkServices> } | undefined

/** 200 when PostgreSQL and the bucket both answer, 503 otherwise; says which, never why. */
export async function loader() {
  const now = Date.now()
  if (!last || now - last.at >= HEALTH_CACHE_MS) last = { at: now, result: checkServices() }
  const status = await last.result
  const healthy = status.database === 'ok' && status.storage === 'ok'
  return Response.json(status, { status: healthy ? 200 : 503, headers: { 'Cache-Control': 'no-store' } })
}
