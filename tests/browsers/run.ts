/**
 * The end-to-end scenarios in the engines of Firefox and Safari: Firefox ESR (WebDriver BiDi, through
 * puppeteer-core) and WebKitGTK's MiniBrowser (WebDriver, through WebKitWebDriver under Xvfb), against
 * the production build on real PostgreSQL and Ceph RGW, plus the development server's first pages on an
 * empty Vite cache in WebKit. One line per test, then `N passed, M failed`; exits 1 on any failure.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { configureBucket, corsOriginsFor } from '../../app/utils/bucket-config.server'
import { errorMessage } from '../../app/utils/errors'
import { freePort } from '../../server/processes'
import { startProxy } from '../support/proxy'
import { startAppServer, type AppServer } from '../support/app-server'
import { makePng } from '../support/images'
import { makePhoto } from '../support/photos'
import { s3ClientFor, startTestServices } from '../support/services'
import { startDevServer, type DevServer } from './dev-server'
import { openFirefox } from './firefox'
import type { BrowserPage } from './page'
import {
  batchUploadTest,
  devFirstLoadTest,
  droppedCookieTest,
  signInTest,
  type BrowserTest,
} from './scenarios'
import { openWebKit } from './webkit'
import { startXvfb, type Xvfb } from './xvfb'

const MiB = 1024 * 1024
// Low enough for a 12 MiB file to go up in two parts (the app cuts parts of at least 8 MiB).
const MULTIPART_THRESHOLD_BYTES = 8 * MiB

const started = Date.now()
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`
const cleanups: (() => Promise<unknown>)[] = []
async function cleanUp() {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup().catch((error: unknown) => console.error(`while stopping: ${errorMessage(error)}`))
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().then(() => process.exit(130)))
}

/** Starts everything at once; if one fails, whatever did start is stopped by cleanUp. */
async function startAll<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }) {
  const results = await Promise.allSettled(starts)
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T
}

/** A camera JPEG, PNGs with and without alpha, and one PNG large enough to go up as S3 multipart. */
async function writeImages(dir: string): Promise<string[]> {
  const files = [
    { name: 'front.jpg', bytes: await makePhoto(1600, 1200, { seed: 7 }) },
    { name: 'side.png', bytes: makePng(640, 480, { rgb: [200, 80, 40] }) },
    { name: 'detail.png', bytes: makePng(800, 600, { rgb: [40, 160, 90], padTo: 12 * MiB }) },
    { name: 'back.png', bytes: makePng(300, 200, { rgb: [90, 40, 200], colourType: 6 }) },
  ]
  return Promise.all(
    files.map(async ({ name, bytes }) => {
      const file = path.join(dir, name)
      await writeFile(file, bytes)
      return file
    }),
  )
}

type Outcome = { name: string; ok: boolean }
const outcomes: Outcome[] = []
const logs: { label: string; output: () => string }[] = []

async function runTest<C extends { page: BrowserPage }>(test: BrowserTest<C>, context: C) {
  const since = Date.now()
  const name = `${context.page.name} › ${test.name}`
  try {
    await test.run(context)
    outcomes.push({ name, ok: true })
    console.log(`  ✓ ${name} (${seconds(since)})`)
  } catch (error) {
    outcomes.push({ name, ok: false })
    console.log(`  ✗ ${name} (${seconds(since)})`)
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error)
    console.log(`      ${detail.replace(/\n/g, '\n      ')}`)
    const shot = path.join(os.tmpdir(), `browser-test-${Date.now()}.png`)
    const saved = await context.page.screenshot(shot).then(
      () => true,
      () => false,
    )
    if (saved) console.log(`      screenshot: ${shot}`)
  }
}

/** Opens a browser, runs its tests and closes it; if it does not start, its `testCount` tests fail. */
async function inBrowser(
  label: string,
  open: () => Promise<BrowserPage>,
  run: (page: BrowserPage) => Promise<void>,
  testCount: number,
) {
  let page: BrowserPage
  try {
    page = await open()
  } catch (error) {
    console.log(`  ✗ ${label} did not start: ${errorMessage(error)}`)
    for (let i = 0; i < testCount; i++) outcomes.push({ name: label, ok: false })
    return
  }
  try {
    await run(page)
  } finally {
    await page.close()
  }
}

async function main() {
  const [appPort, mismatchedPort, devPort] = await Promise.all([freePort(), freePort(), freePort()])
  const services = await startTestServices(appPort)
  cleanups.push(() => services.stop())
  const { env } = services
  const s3 = s3ClientFor(env)
  await configureBucket(s3, {
    bucket: env.S3_BUCKET!,
    origins: [appPort, devPort].flatMap((port) => corsOriginsFor(`http://localhost:${port}`)),
    stagingExpiryDays: 1,
  })
  s3.destroy()
  const imagesDir = await mkdtemp(path.join(os.tmpdir(), 'product-images-browsers-'))
  cleanups.push(() => rm(imagesDir, { recursive: true, force: true }))
  // A browser that keeps no cookie for the app (cookies refused): a proxy in front drops them all.
  const cookieless = await startProxy({
    targets: [{ host: '127.0.0.1', port: mismatchedPort }],
    host: 'keep',
    dropCookies: true,
  })
  cleanups.push(() => cookieless.stop())
  // 127.0.0.1, not localhost: cookies are per host, not per port, and this browser holds one for localhost.
  const mismatchedOrigin = `http://127.0.0.1:${cookieless.port}`
  const tracked = <T extends { stop(): Promise<void> }>(start: Promise<T>) =>
    start.then((thing) => {
      cleanups.push(() => thing.stop())
      return thing
    })
  const [app, , dev, xvfb, images] = await startAll<[AppServer, AppServer, DevServer, Xvfb, string[]]>([
    tracked(startAppServer({ ...env, MULTIPART_THRESHOLD_BYTES: String(MULTIPART_THRESHOLD_BYTES) })),
    // Behind that proxy, which admins reach it through.
    tracked(
      startAppServer({
        ...env,
        PORT: String(mismatchedPort),
        APP_ORIGIN: mismatchedOrigin,
        RUN_WORKER: 'false',
      }),
    ),
    tracked(startDevServer({ ...env, PORT: String(devPort), APP_ORIGIN: `http://localhost:${devPort}` })),
    tracked(startXvfb()),
    writeImages(imagesDir),
  ])
  logs.push({ label: 'app server', output: app.output }, { label: 'dev server', output: dev.output })
  console.log(`Services, servers and Xvfb (${xvfb.display}) up in ${seconds(started)}`)

  const tests = [signInTest, batchUploadTest]
  await inBrowser(
    'firefox',
    openFirefox,
    async (page) => {
      for (const test of tests) await runTest(test, { page, appUrl: app.url, images })
    },
    tests.length,
  )
  await inBrowser(
    'webkitgtk',
    () => openWebKit(xvfb.display),
    async (page) => {
      for (const test of tests) await runTest(test, { page, appUrl: app.url, images })
      await runTest(droppedCookieTest, {
        page,
        mismatchedUrl: mismatchedOrigin,
        appOrigin: mismatchedOrigin,
      })
    },
    tests.length + 1,
  )
  // A browser of its own, as on a fresh install: cookies are per host, not per port, so the session
  // above would otherwise sign it in to the dev server (same database and secret) before its first page.
  await inBrowser(
    'webkitgtk',
    () => openWebKit(xvfb.display),
    (page) => runTest(devFirstLoadTest, { page, devUrl: dev.url, devOutput: dev.output }),
    1,
  )
}

let crashed = false
try {
  await main()
} catch (error) {
  crashed = true
  console.error(`The browser tests could not run: ${error instanceof Error ? error.stack : String(error)}`)
}
const failed = outcomes.filter((o) => !o.ok).length + (crashed ? 1 : 0)
if (failed > 0) {
  for (const { label, output } of logs) {
    console.log(`--- last lines of the ${label} ---\n${output().split('\n').slice(-40).join('\n')}`)
  }
}
await cleanUp()
console.log(`Took ${seconds(started)}`)
console.log(`${outcomes.length - outcomes.filter((o) => !o.ok).length} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
