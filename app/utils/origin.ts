export interface OriginFacts {
  method: string
  /** The Origin header, if any. */
  origin: string | null
  /** The Sec-Fetch-Site header, if any. */
  fetchSite: string | null
  /** scheme://host of the request as this server received it. */
  requestOrigin: string
  /** APP_ORIGIN: the address admins use (differs from requestOrigin behind a TLS proxy). */
  appOrigin: string
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Whether a request may change something: safe methods always; others only from the app's own origin.
 * Browsers send Origin on every POST; a request with neither Origin nor Sec-Fetch-Site comes from a
 * non-browser client, which cannot ride on an admin's cookies, so it passes.
 */
export function isAllowedMutationOrigin(facts: OriginFacts): boolean {
  if (SAFE_METHODS.has(facts.method.toUpperCase())) return true
  const { origin, fetchSite } = facts
  if (origin === null) return !fetchSite || fetchSite === 'same-origin' || fetchSite === 'none'
  return origin === facts.requestOrigin || origin === facts.appOrigin
}
