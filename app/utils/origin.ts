export interface OriginFacts {
  method: string
  /** The Origin header, if any. */
  origin: string | null
  /** The Sec-Fetch-Site header, if any. */
  fetchSite: string | null
  /** APP_ORIGIN: the address admins use, whatever Host a proxy passed on. */
  appOrigin: string
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Whether a request may change something: safe methods always; others only from APP_ORIGIN itself. Not
 * from the request's own address: that comes from its Host header, which whoever sends the request
 * chooses (a POST with Host and Origin both naming evil.example must not pass). Browsers send Origin on
 * every POST; a request with neither Origin nor Sec-Fetch-Site comes from a non-browser client, which
 * cannot ride on an admin's cookies, so it passes.
 */
export function isAllowedMutationOrigin(facts: OriginFacts): boolean {
  if (SAFE_METHODS.has(facts.method.toUpperCase())) return true
  const { origin, fetchSite } = facts
  if (origin === null) return !fetchSite || fetchSite === 'same-origin' || fetchSite === 'none'
  return appOriginAliases(facts.appOrigin).includes(origin)
}

/**
 * The origins that are the app: APP_ORIGIN, and on this machine its other loopback name (localhost and
 * 127.0.0.1 are one server to a developer). The bucket's CORS rule lists the same.
 */
export function appOriginAliases(appOrigin: string): string[] {
  const url = new URL(appOrigin)
  const origins = new Set([url.origin])
  if (url.hostname === 'localhost') origins.add(url.origin.replace('localhost', '127.0.0.1'))
  if (url.hostname === '127.0.0.1') origins.add(url.origin.replace('127.0.0.1', 'localhost'))
  return [...origins]
}

/** "shop.example" and "shop.example:443" are one host for https: the default port is dropped. */
export function normalizeHost(host: string, protocol: string) {
  const lower = host.trim().toLowerCase()
  const defaultPort = protocol === 'https:' ? ':443' : ':80'
  return lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower
}
