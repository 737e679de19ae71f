import type { Express, Request } from 'express'
import { appOriginAliases, normalizeHost } from '../app/utils/origin'

/** Answered whatever the Host: a load balancer's health checks name the server by its own address. */
const ANY_HOST_PATHS = new Set(['/healthz', '/ping'])

/**
 * The host the request names: X-Forwarded-Host when TRUST_PROXY trusts the proxy that sent it (as
 * Express's req.hostname decides), else Host; with its port, which req.hostname drops.
 */
function requestHost(req: Request) {
  const trusts = req.app.get('trust proxy fn') as (address: string, hop: number) => boolean
  const forwarded = trusts(req.socket.remoteAddress ?? '', 0)
    ? req.get('X-Forwarded-Host')?.split(',')[0]?.trim()
    : undefined
  return forwarded || req.get('Host') || ''
}

/**
 * Holds every request to APP_ORIGIN. A request naming another host (neither APP_ORIGIN's nor one of
 * ALLOWED_HOSTS) gets 421 with the setting or proxy line to fix, never a page: a forged Host cannot
 * steer URLs the app builds. One that passes reaches Remix as if sent to APP_ORIGIN itself: Host is
 * APP_ORIGIN's and X-Forwarded-Host is gone, so Remix's own check of Origin against the host (which
 * throws, a 500, when a proxy rewrote Host) compares APP_ORIGIN with itself; the Origin check has
 * already held the request's Origin to APP_ORIGIN.
 */
export function holdToAppOrigin(
  app: Express,
  { appOrigin, allowedHosts }: { appOrigin: string; allowedHosts: string[] },
) {
  const { host: appHost, protocol } = new URL(appOrigin)
  // The app's own names (localhost and 127.0.0.1 on this machine) pass as they came; a proxy's address
  // from ALLOWED_HOSTS is made APP_ORIGIN's before Remix sees it.
  const ownHosts = new Map(
    appOriginAliases(appOrigin).map((o) => [normalizeHost(new URL(o).host, protocol), new URL(o).host]),
  )
  const allowed = new Set([...ownHosts.keys(), ...allowedHosts.map((h) => normalizeHost(h, protocol))])
  app.use((req, res, next) => {
    const host = normalizeHost(requestHost(req), protocol)
    if (!allowed.has(host) && !ANY_HOST_PATHS.has(req.path)) {
      res
        .status(421)
        .type('text/plain')
        .send(
          `This server answers as ${appOrigin}, and this request was for ${host || 'no host'}. ` +
            'If a proxy in front of it rewrites the Host header, have it pass the original on ' +
            '(nginx: proxy_set_header Host $host; or X-Forwarded-Host with TRUST_PROXY set), ' +
            `or add ${host || 'its address'} to ALLOWED_HOSTS.`,
        )
      return
    }
    req.headers.host = ownHosts.get(host) ?? appHost
    delete req.headers['x-forwarded-host']
    next()
  })
}
