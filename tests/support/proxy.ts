import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ProxyOptions {
  /** The app servers behind it, taken in turn (round robin, no stickiness). */
  targets: { host: string; port: number }[]
  /** What it sends as Host: the client's ('keep'), or the target's address ('rewrite'). */
  host: 'keep' | 'rewrite'
  /** Adds X-Forwarded-Host, -Proto and -For, as nginx or an ALB configured for it does. */
  forwarded?: boolean
  /** Drops every Set-Cookie on the way back, as a browser that refuses cookies would never keep them. */
  dropCookies?: boolean
}

export interface Proxy {
  port: number
  /** The target port that answered each request, in order: which server a request reached. */
  served: number[]
  stop(): Promise<void>
}

/**
 * A small reverse proxy for tests: streams each request to the next target and its answer back,
 * rewriting Host (or not) and adding forwarded headers (or not), as the proxies in front of a real
 * fleet do. Listens on a free loopback port.
 */
export async function startProxy({
  targets,
  host,
  forwarded = false,
  dropCookies = false,
}: ProxyOptions): Promise<Proxy> {
  let next = 0
  const served: number[] = []
  const server = http.createServer((req, res) => {
    const target = targets[next++ % targets.length]!
    served.push(target.port)
    const headers = { ...req.headers }
    if (host === 'rewrite') headers.host = `${target.host}:${target.port}`
    if (forwarded) {
      headers['x-forwarded-host'] = req.headers.host
      headers['x-forwarded-proto'] = 'http'
      headers['x-forwarded-for'] = req.socket.remoteAddress
    }
    const upstream = http.request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers },
      (answer) => {
        if (dropCookies) delete answer.headers['set-cookie']
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    served,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** One request over HTTP with any Host header (fetch refuses to set one), its body read whole. */
export function request(
  port: number,
  {
    method = 'GET',
    path = '/',
    headers = {},
    body,
  }: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
      })
      req.on('error', reject)
      req.end(body)
    },
  )
}
