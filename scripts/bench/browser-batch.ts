import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { chromium, type JSHandle, type Page } from '@playwright/test'
import { request } from 'undici'
import { TEST_ADMIN, s3ClientFor } from '../../tests/support/services'
import {
  bundle,
  cpuSnapshot,
  cpuUsed,
  emptyBucket,
  median,
  MiB,
  realPng,
  S3_PROCESSES,
  settle,
  startBenchApp,
  type Row,
} from './support'

const SMALL = 20
const SMALL_BYTES = 2 * MiB
const LARGE_BYTES = 128 * MiB
const CONCURRENCY = 6
const RUNS = Number(process.env.BENCH_RUNS ?? 7)
/** The emulated uplink of the second phase, in MiB/s (40 MiB/s is about 336 Mbit/s), and its runs. */
const LINK_MIB = Number(process.env.BENCH_LINK_MIB ?? 40)
const LINK_RUNS = Number(process.env.BENCH_LINK_RUNS ?? 5)

type Way = 'app' | 'headless' | 'nodigest' | 'single' | 'bare' | 'xhr' | 'stock'
const WAYS: Way[] = ['app', 'headless', 'nodigest', 'single', 'bare', 'xhr', 'stock']
const LABEL: Record<Way, string> = {
  app: "app's Dashboard",
  headless: "app's uploader, no UI",
  nodigest: "app's uploader, no UI, no digests",
  single: "app's uploader, no UI, 128 MiB as one PUT",
  bare: 'bare fetch()',
  xhr: 'bare XMLHttpRequest',
  stock: 'stock Uppy 6',
}
const perWay = <T>() => Object.fromEntries(WAYS.map((way) => [way, [] as T[]])) as Record<Way, T[]>

/**
 * 20 images of 2 MiB and one of 128 MiB, real PNGs of their size (every pixel its own), dropped in
 * Chromium, from the drop until every upload is done, several ways in the same page and run: the app's
 * Dashboard; the app's own uploader with no UI (the same Uppy instance: digests, signing, multipart,
 * checks), the same without digests (what hashing costs), and the same sending the 128 MiB file as one
 * PUT; bare fetch() PUTs of the same files to presigned URLs
 * (the goal's baseline), and the same with XMLHttpRequest; and a stock Uppy 6 Dashboard (unpatched,
 * @uppy/aws-s3 defaults, a plain signing endpoint). Presigned PUTs sent from Node are a diagnostic row.
 * The job worker runs apart (RUN_WORKER=false), as on a server with more cores: here its image
 * processing would take the two cores the browser and S3 are measured on.
 *   BENCH_RUNS=7  BENCH_WORKER=true (the worker in the server)
 *   BENCH_WAYS=app,headless,bare (a subset of app,headless,nodigest,single,bare,xhr,stock)
 *   BENCH_PROFILE=dir (a DevTools CPU profile of the page's main thread for each way and run)
 *   BENCH_TRACE=dir (a Chromium trace of every thread of the browser for each way and run)
 * Each run also hashes the files with the uploader's digest worker alone (MiB/s of one core).
 * A second phase runs the Dashboard, the uploader with no UI (with and without digests) and bare
 * fetch() again over an uplink
 * Chromium emulates (BENCH_LINK_MIB=40 MiB/s, BENCH_LINK_RUNS=5; 0 skips it), where the link and not
 * this machine's two cores sets the pace.
 */
export async function benchBrowserBatch(): Promise<Row[]> {
  // Each run's objects are deleted after it (the local Ceph frees them within seconds, see index.ts),
  // so its in-memory store is as empty for the last run as for the first.
  const ctx = await startBenchApp({
    MAX_IMAGE_BYTES: String(256 * MiB),
    MAX_IMAGES_PER_PRODUCT: '30',
    UPLOAD_CONCURRENCY: String(CONCURRENCY),
    RUN_WORKER: process.env.BENCH_WORKER ?? 'false',
  })
  const { env } = ctx.services
  const bucket = env.S3_BUCKET!
  const s3 = s3ClientFor(env)
  // Where the CPU goes: this machine's cores are shared by the browser, the S3 engine and the app.
  const appPid = ctx.app.process.pid!
  const classify = (pid: number, comm: string) =>
    comm.startsWith('chrom')
      ? 'browser'
      : (S3_PROCESSES(pid, comm) ?? (pid === appPid ? 'app' : pid === process.pid ? 'client' : null))
  // The browser's CPU also by process: its renderer (the page), GPU, network service and browser process.
  const byProcess = (pid: number, comm: string) =>
    comm.startsWith('chrom') ? chromiumProcess(pid) : classify(pid, comm)
  const cpu = { ...perWay<Record<string, number>>(), node: [] as Record<string, number>[] }
  const ms = { ...perWay<number>(), node: [] as number[], nodeDisk: [] as number[] }
  /** MiB/s of the uploader's digest worker hashing the batch's files, one run each. */
  const digestRates: number[] = []
  const spans = perWay<{ first: number; last: number }>()
  /** Runs `work` and adds the CPU time each group used meanwhile to `into`. */
  const countingCpu = async <T>(into: Record<string, number>[], work: () => Promise<T>) => {
    const before = await cpuSnapshot()
    const result = await work()
    const used = cpuUsed(before, await cpuSnapshot(), byProcess)
    for (const [group, ms] of Object.entries(used)) {
      if (group.startsWith('browser:')) used.browser = (used.browser ?? 0) + ms
    }
    into.push(used)
    return result
  }

  console.log('  making the images and bundling the stock Uppy…')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-batch-'))
  // The large one first (the Dashboard sends the largest first anyway).
  const files = [
    await realPng(path.join(dir, 'large.png'), LARGE_BYTES),
    ...(await Promise.all(
      Array.from({ length: SMALL }, (_, i) => realPng(path.join(dir, `small-${i + 1}.png`), SMALL_BYTES)),
    )),
  ]
  const sizes = files.map((file) => statSync(file).size)
  const bodies = await Promise.all(files.map((file) => readFile(file)))
  const bundles = {
    // Uppy's core unpatched too, for the stock Dashboard and every package it pulls in.
    stock: await bundle('stock-uppy/entry.ts', [
      { find: /^@uppy\/core(\/.*)?$/, replacement: 'uppy-core-stock$1' },
    ]),
    headless: await bundle('headless-uploader/entry.ts'),
  }
  const signer = await startPlainSigner(s3, bucket)
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
  // The stock bundle is put into the app's page, whose CSP would refuse it.
  const context = await browser.newContext({ bypassCSP: true })
  try {
    // From memory (the old baseline), or reading each file from disk first, as the browser must.
    const viaNode = async (run: number, fromDisk = false) => {
      const started = performance.now()
      let next = 0
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < files.length) {
            const i = next++
            const body = fromDisk ? await readFile(files[i]!) : bodies[i]!
            const url = await getSignedUrl(
              s3,
              new PutObjectCommand({
                Bucket: bucket,
                Key: `bench/node-${fromDisk ? 'disk' : 'memory'}-${run}-${i}.png`,
                ContentType: 'image/png',
              }),
              { expiresIn: 600, signableHeaders: new Set(['content-type']) },
            )
            // undici's request() writes the buffer as it is; fetch() would first copy each body.
            const response = await request(url, {
              method: 'PUT',
              body,
              headers: { 'Content-Type': 'image/png' },
            })
            await response.body.dump()
            if (response.statusCode !== 200) throw new Error(`presigned PUT answered ${response.statusCode}`)
          }
        }),
      )
      ms[fromDisk ? 'nodeDisk' : 'node'].push(performance.now() - started)
    }
    /** One way's upload of the dropped files from `page`, timed in the page. */
    const uploadWay = (way: Way, page: Page, dropped: JSHandle<DataTransfer>) =>
      way === 'app'
        ? dropOnAppDashboard(page, dropped, files.length)
        : way === 'headless'
          ? addToHeadlessUploader(page, dropped, files.length, bundles.headless)
          : way === 'nodigest'
            ? addToHeadlessUploader(page, dropped, files.length, bundles.headless, { digests: false })
            : way === 'single'
              ? addToHeadlessUploader(page, dropped, files.length, bundles.headless, { onePut: true })
              : way === 'bare' || way === 'xhr'
                ? barePuts(page, dropped, s3, bucket, way)
                : dropOnStockUppy(page, dropped, files.length, bundles.stock, signer.url)
    const ways = process.env.BENCH_WAYS ? (process.env.BENCH_WAYS.split(',') as Way[]) : WAYS
    for (let run = 0; run < RUNS; run++) {
      console.log(`  run ${run + 1} of ${RUNS}`)
      const page = await openUploaderPage(ctx.app.url)
      const dropped = await pickFiles(page, files)
      // The stock Uppy runs in a tab of its own on the same page, so what it leaves behind (a second
      // Uppy, the bitmaps its thumbnails decoded) cannot slow the other ways.
      const stockPage = ways.includes('stock') ? await openUploaderPage(ctx.app.url) : null
      const stockFiles = stockPage ? await pickFiles(stockPage, files) : null
      // Each way goes first in turn: the machine's speed drifts, less within a run than between runs.
      for (let i = 0; i < ways.length; i++) {
        const way = ways[(run + i) % ways.length]!
        const wayPage = way === 'stock' ? stockPage! : page
        const run1 = () => uploadWay(way, wayPage, way === 'stock' ? stockFiles! : dropped)
        const name = `${way}-${run + 1}`
        const { started, elapsed } = await countingCpu(cpu[way], () =>
          process.env.BENCH_PROFILE
            ? profiled(wayPage, name, run1)
            : process.env.BENCH_TRACE
              ? traced(wayPage, name, run1)
              : run1(),
        )
        ms[way].push(elapsed)
        spans[way].push(await s3Span(wayPage, started))
        await settle(classify, ['browser', 'app', 's3'])
      }
      if (ways.includes('headless')) {
        digestRates.push(await digestRate(page, dropped, bundles.headless))
        await settle(classify, ['browser', 'app', 's3'])
      }
      await page.close()
      await stockPage?.close()
      await countingCpu(cpu.node, () => viaNode(run))
      await viaNode(run, true)
      // RGW's garbage collection of these objects must not land on the next run: settle waits for it.
      await emptyBucket(s3, bucket)
      await settle(classify, ['browser', 'app', 's3'])
    }

    // The same batch where the link sets the pace: Chromium throttles the page's uploads together to
    // LINK_MIB (the DevTools network emulation, in its network service).
    const linkWays = (['app', 'headless', 'nodigest', 'bare'] as const).filter((way) => ways.includes(way))
    const linkMs = {
      app: [] as number[],
      headless: [] as number[],
      nodigest: [] as number[],
      bare: [] as number[],
    }
    for (let run = 0; linkWays.length > 0 && run < LINK_RUNS; run++) {
      console.log(`  over a ${LINK_MIB} MiB/s uplink: run ${run + 1} of ${LINK_RUNS}`)
      const page = await openUploaderPage(ctx.app.url, LINK_MIB * MiB)
      const dropped = await pickFiles(page, files)
      for (let i = 0; i < linkWays.length; i++) {
        const way = linkWays[(run + i) % linkWays.length]!
        const { elapsed } = await uploadWay(way, page, dropped)
        linkMs[way].push(elapsed)
        await settle(classify, ['browser', 'app', 's3'])
      }
      await page.close()
      await emptyBucket(s3, bucket)
      await settle(classify, ['browser', 'app', 's3'])
    }

    const seconds = (value: number) => (value / 1000).toFixed(2)
    const ratioOf = (a: number[], b: number[]) => {
      const ratios = a.map((value, i) => value / b[i]!)
      return {
        median: median(ratios),
        spread: `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`,
      }
    }
    const total = (sizes.reduce((a, b) => a + b, 0) / MiB).toFixed(0)
    const cpuOf = (way: Way | 'node', group: string) =>
      seconds(median(cpu[way].map((used) => used[group] ?? 0)))
    const browserProcesses = (way: Way) =>
      ['renderer', 'gpu-process', 'utility', 'browser']
        .map((type) => `${type === 'gpu-process' ? 'gpu' : type} ${cpuOf(way, `browser:${type}`)}`)
        .join(', ')
    /** `a`'s times against `b`'s, taken side by side: both medians, and the median of the runs' ratios. */
    const compare = (a: number[], b: number[], baseline: string) => {
      const ratio = ratioOf(a, b)
      return {
        ratio,
        measured: `${seconds(median(a))} s`,
        baseline: `${seconds(median(b))} s ${baseline}`,
        result: `${ratio.median.toFixed(2)}x (runs ${ratio.spread}x)`,
      }
    }
    const atMost115 = (benchmark: string, a: number[], b: number[], baseline: string): Row => {
      const { ratio, ...shown } = compare(a, b, baseline)
      return { benchmark, ...shown, goal: '<= 1.15x', verdict: ratio.median <= 1.15 ? 'PASS' : 'MISS' }
    }
    const diagnostic = (benchmark: string, a: number[], b: number[], baseline: string, more = ''): Row => {
      const { measured, baseline: against, result } = compare(a, b, baseline)
      return { benchmark, measured, baseline: against, result: `${result}${more}`, goal: '-', verdict: '-' }
    }
    const ran = (...needed: Way[]) => needed.every((way) => ms[way].length > 0)
    const stock = compare(ms.stock, ms.app, "app's Dashboard")
    const rows: Row[] = [
      ran('app', 'bare') &&
        atMost115(
          `Uploader batch, 20 x 2 MiB + 128 MiB real PNGs (${total} MiB): app's Dashboard`,
          ms.app,
          ms.bare,
          'bare fetch()',
        ),
      ran('app', 'headless') &&
        atMost115(
          `  the Dashboard's own cost: against the app's uploader with no UI, same page`,
          ms.app,
          ms.headless,
          'no UI',
        ),
      ran('stock', 'app') && {
        benchmark: `  stock Uppy 6 (unpatched, @uppy/aws-s3 defaults, plain signer), same page`,
        measured: stock.measured,
        baseline: stock.baseline,
        result: `${stock.ratio.median.toFixed(2)}x the app's time (runs ${stock.ratio.spread}x)`,
        goal: '> 1x',
        verdict: stock.ratio.median > 1 ? 'PASS' : 'MISS',
      },
      ran('headless', 'bare') &&
        diagnostic(
          `  (diagnostic) the upload protocol's own cost: no UI against bare fetch()`,
          ms.headless,
          ms.bare,
          'bare fetch()',
        ),
      ran('headless', 'nodigest') &&
        diagnostic(
          `  (diagnostic) hashing's cost: no UI with digests against the same without`,
          ms.headless,
          ms.nodigest,
          'no digests',
        ),
      digestRates.length > 0 && {
        benchmark: `  (diagnostic) MD5 rate of the digest worker (hash-wasm, one core), the batch's files`,
        measured: `${median(digestRates).toFixed(0)} MiB/s`,
        baseline: '-',
        result: `runs ${Math.min(...digestRates).toFixed(0)}-${Math.max(...digestRates).toFixed(0)} MiB/s`,
        goal: '-',
        verdict: '-',
      },
      ran('headless', 'single', 'bare') &&
        diagnostic(
          `  (diagnostic) multipart's cost: no UI against the same with the 128 MiB file as one PUT`,
          ms.headless,
          ms.single,
          'one PUT',
          `; one PUT ${ratioOf(ms.single, ms.bare).median.toFixed(2)}x bare fetch()`,
        ),
      ran('xhr', 'bare') &&
        diagnostic(
          `  (diagnostic) bare XMLHttpRequest PUTs against bare fetch()`,
          ms.xhr,
          ms.bare,
          'bare fetch()',
        ),
      ran('bare') && {
        benchmark: `  (diagnostic) Node PUTs from memory / from disk`,
        measured: `${seconds(median(ms.node))} s / ${seconds(median(ms.nodeDisk))} s`,
        baseline: `${seconds(median(ms.bare))} s bare fetch()`,
        result: `bare fetch ${ratioOf(ms.bare, ms.node).median.toFixed(2)}x Node's time`,
        goal: '-',
        verdict: '-',
      },
      linkMs.app.length > 0 &&
        linkMs.bare.length > 0 &&
        atMost115(
          `Same batch over a ${LINK_MIB} MiB/s uplink (${((LINK_MIB * MiB * 8) / 1e6).toFixed(0)} Mbit/s, Chromium's emulation): app's Dashboard`,
          linkMs.app,
          linkMs.bare,
          'bare fetch()',
        ),
      linkMs.app.length > 0 &&
        linkMs.headless.length > 0 &&
        atMost115(
          `  the Dashboard's own cost over that uplink: against the app's uploader with no UI`,
          linkMs.app,
          linkMs.headless,
          'no UI',
        ),
      linkMs.headless.length > 0 &&
        linkMs.nodigest.length > 0 &&
        (() => {
          const { ratio, ...shown } = compare(linkMs.headless, linkMs.nodigest, 'no digests')
          return {
            benchmark: `  hashing's cost over that uplink: the uploader with no UI, with digests against without`,
            ...shown,
            goal: '<= 1.05x',
            verdict: ratio.median <= 1.05 ? 'PASS' : 'MISS',
          }
        })(),
    ].filter((row): row is Row => row !== false)
    for (const way of ways) {
      rows.push({
        benchmark: `  (diagnostic) ${LABEL[way]}: first request to S3 / last answer, from the drop`,
        measured: `${median(spans[way].map((span) => span.first)).toFixed(0)} ms / ${median(spans[way].map((span) => span.last)).toFixed(0)} ms`,
        baseline: '-',
        result: '-',
        goal: '-',
        verdict: '-',
      })
    }
    for (const way of ways) {
      rows.push({
        benchmark: `  (diagnostic) CPU seconds per run (${os.cpus().length} cores), ${LABEL[way]}`,
        measured: `browser ${cpuOf(way, 'browser')} (${browserProcesses(way)}) + S3 ${cpuOf(way, 's3')} + app ${cpuOf(way, 'app')}`,
        baseline: `Node PUTs: Node ${cpuOf('node', 'client')} + S3 ${cpuOf('node', 's3')}`,
        result: '-',
        goal: '-',
        verdict: '-',
      })
    }
    return rows
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await context.close()
    await browser.close()
    await signer.close()
    s3.destroy()
    await ctx.app.stop()
    await ctx.services.stop()
  }

  async function openUploaderPage(url: string, uplinkBytesPerSecond?: number) {
    const page = await context.newPage()
    if (uplinkBytesPerSecond) {
      const cdp = await context.newCDPSession(page)
      await cdp.send('Network.enable')
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: uplinkBytesPerSecond,
      })
    }
    await page.addInitScript(() => performance.setResourceTimingBufferSize(10_000))
    await page.goto(`${url}/products/new`)
    // The context keeps its session: only the first page signs in.
    if (page.url().includes('/login')) {
      await page.getByLabel('Email').fill(TEST_ADMIN.email)
      await page.getByLabel('Password').fill(TEST_ADMIN.password)
      await page.getByRole('button', { name: 'Sign in' }).click()
    }
    // On screen, as it is when an admin drops files on it (its thumbnails are made for the rows in view).
    await page.locator('.uppy-Dashboard-inner').scrollIntoViewIfNeeded()
    return page
  }
}

const chromiumTypes = new Map<number, string>()
/** Chromium's processes by their --type: browser, renderer, gpu-process, utility (the network service among them). */
function chromiumProcess(pid: number) {
  let type = chromiumTypes.get(pid)
  if (type === undefined) {
    let cmdline = ''
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    } catch {
      // Gone already: counted as the browser process.
    }
    type = `browser:${/--type=([\w-]+)/.exec(cmdline)?.[1] ?? 'browser'}`
    chromiumTypes.set(pid, type)
  }
  return type
}

/**
 * Runs `work` under the DevTools CPU profiler of the page's main thread and writes the profile to
 * BENCH_PROFILE/<name>.cpuprofile (open it in Chromium's DevTools, Performance panel).
 */
async function profiled<T>(page: Page, name: string, work: () => Promise<T>) {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
  await cdp.send('Profiler.start')
  try {
    return await work()
  } finally {
    const { profile } = await cdp.send('Profiler.stop')
    mkdirSync(process.env.BENCH_PROFILE!, { recursive: true })
    writeFileSync(path.join(process.env.BENCH_PROFILE!, `${name}.cpuprofile`), JSON.stringify(profile))
    await cdp.detach()
  }
}

/**
 * Runs `work` under Chromium's tracing, every process and thread (the page's main thread, its workers,
 * the compositor, the network service), and writes the trace to BENCH_TRACE/<name>.json (open it in
 * Chromium's DevTools, Performance panel, or in ui.perfetto.dev).
 */
async function traced<T>(page: Page, name: string, work: () => Promise<T>) {
  const browser = page.context().browser()!
  mkdirSync(process.env.BENCH_TRACE!, { recursive: true })
  await browser.startTracing(page, {
    path: path.join(process.env.BENCH_TRACE!, `${name}.json`),
    categories: [
      'devtools.timeline',
      'disabled-by-default-devtools.timeline',
      'v8.execute',
      'blink',
      'loading',
    ],
  })
  try {
    return await work()
  } finally {
    await browser.stopTracing()
  }
}

/** When requests to S3 (presigned: their URLs carry X-Amz-Signature) began and ended, from `started`. */
function s3Span(page: Page, started: number) {
  return page.evaluate((started) => {
    const s3 = performance
      .getEntriesByType('resource')
      .filter((entry) => entry.startTime >= started && entry.name.includes('X-Amz-Signature'))
    performance.clearResourceTimings()
    return {
      first: Math.min(...s3.map((entry) => entry.startTime)) - started,
      last: Math.max(...s3.map((entry) => (entry as PerformanceResourceTiming).responseEnd)) - started,
    }
  }, started)
}

/**
 * Files on disk, as a drag from the desktop brings them: an <input type=file> hands the page disk-backed
 * File objects, which a DataTransfer then carries. (Files built in the page's memory would first have to
 * be copied to the browser process, which no real drop does.)
 */
async function pickFiles(page: Page, files: string[]) {
  const picker = await page.evaluateHandle(() => {
    const input = document.createElement('input')
    input.type = 'file'
    input.multiple = true
    input.hidden = true
    document.body.append(input)
    return input
  })
  await picker.setInputFiles(files)
  return page.evaluateHandle((input) => {
    const dt = new DataTransfer()
    for (const file of Array.from(input.files ?? [])) dt.items.add(file)
    input.remove()
    return dt
  }, picker)
}

// No named functions in these page functions: tsx would wrap them in a helper the page does not have.
// Each is timed in the page, from the drop to the last upload, so no round trip to Playwright counts.

/** The app's Dashboard: done when every file's signed reference is in its hidden input. */
function dropOnAppDashboard(page: Page, dataTransfer: JSHandle<DataTransfer>, count: number) {
  return page.evaluate(
    async ({ dataTransfer, count }) => {
      const target = document.querySelector('.uppy-Dashboard-inner')!
      const done = new Promise<void>((resolve) => {
        const observer = new MutationObserver(() => {
          if (document.querySelectorAll('input[name="imageRef"]').length !== count) return
          observer.disconnect()
          resolve()
        })
        observer.observe(document.body, { childList: true, subtree: true })
      })
      const started = performance.now()
      for (const type of ['dragenter', 'dragover', 'drop'])
        target.dispatchEvent(new DragEvent(type, { dataTransfer, bubbles: true, cancelable: true }))
      await done
      return { started, elapsed: performance.now() - started }
    },
    { dataTransfer, count },
  )
}

/**
 * The same dropped files as plain PUTs to presigned URLs, 6 at a time: with fetch() (the goal's baseline)
 * or with XMLHttpRequest (what Uppy sends with; in Chromium it costs less CPU than fetch() with a File).
 */
async function barePuts(
  page: Page,
  dataTransfer: JSHandle<DataTransfer>,
  s3: S3Client,
  bucket: string,
  api: 'bare' | 'xhr',
) {
  const count = await dataTransfer.evaluate((dt) => dt.files.length)
  const stamp = Date.now()
  const urls = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: `bench/bare-${stamp}-${i}.png` }), {
        expiresIn: 600,
      }),
    ),
  )
  return page.evaluate(
    async ({ dataTransfer, targets, concurrency, api }) => {
      const dropped = Array.from(dataTransfer.files)
      const started = performance.now()
      let next = 0
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < targets.length) {
            const i = next++
            const status =
              api === 'bare'
                ? (await fetch(targets[i]!, { method: 'PUT', body: dropped[i] })).status
                : await new Promise<number>((resolve, reject) => {
                    const request = new XMLHttpRequest()
                    request.open('PUT', targets[i]!)
                    request.onload = () => resolve(request.status)
                    request.onerror = () => reject(new Error('presigned PUT: network error'))
                    request.send(dropped[i]!)
                  })
            if (status !== 200) throw new Error(`presigned PUT answered ${status}`)
          }
        }),
      )
      return { started, elapsed: performance.now() - started }
    },
    { dataTransfer, targets: urls, concurrency: CONCURRENCY, api },
  )
}

/**
 * The app's uploader with no UI, put into the same page: done at Uppy's `complete` with every file
 * uploaded. `onePut` sends every file as one PUT, the 128 MiB one too (a multipart threshold above it).
 */
async function addToHeadlessUploader(
  page: Page,
  dataTransfer: JSHandle<DataTransfer>,
  count: number,
  bundle: string,
  { onePut = false, digests = true } = {},
) {
  await page.addScriptTag({ content: bundle })
  return page.evaluate(
    async ({ dataTransfer, count, onePut, digests }) => {
      // The settings the page's loader gave its own uploader.
      const router = (
        window as unknown as { __remixRouter: { state: { loaderData: Record<string, unknown> } } }
      ).__remixRouter
      const { uploader } = router.state.loaderData['routes/products.new'] as {
        uploader: Parameters<typeof window.startHeadlessUploader>[0]
      }
      const uppy = window.startHeadlessUploader(
        onePut ? { ...uploader, multipartThresholdBytes: Number.MAX_SAFE_INTEGER } : uploader,
        { digests },
      )
      const done = new Promise<void>((resolve, reject) =>
        uppy.on('complete', (result) => {
          if ((result.successful ?? []).length === count) resolve()
          else reject(new Error(`the uploader uploaded ${(result.successful ?? []).length} of ${count}`))
        }),
      )
      const started = performance.now()
      uppy.addFiles(
        Array.from(dataTransfer.files).map((file) => ({
          name: file.name,
          type: file.type,
          data: file,
          source: 'drop',
        })),
      )
      await done
      const elapsed = performance.now() - started
      uppy.destroy()
      return { started, elapsed }
    },
    { dataTransfer, count, onePut, digests },
  )
}

/** MiB/s of the uploader's digest worker hashing the dropped files one after another, in the page. */
async function digestRate(page: Page, dataTransfer: JSHandle<DataTransfer>, bundle: string) {
  await page.addScriptTag({ content: bundle })
  const { bytes, ms } = await page.evaluate(
    (dataTransfer) => window.benchDigestRate(Array.from(dataTransfer.files)),
    dataTransfer,
  )
  return bytes / MiB / (ms / 1000)
}

/** A stock Uppy Dashboard put into the same page: done at Uppy's `complete` with every file uploaded. */
async function dropOnStockUppy(
  page: Page,
  dataTransfer: JSHandle<DataTransfer>,
  count: number,
  bundle: string,
  signEndpoint: string,
) {
  await page.addScriptTag({ content: bundle })
  return page.evaluate(
    async ({ dataTransfer, count, signEndpoint }) => {
      const host = document.createElement('div')
      host.id = 'stock-uppy'
      document.body.append(host)
      const uppy = window.startStockUppy('#stock-uppy', signEndpoint)
      const done = new Promise<void>((resolve, reject) =>
        uppy.on('complete', (result) => {
          if ((result.successful ?? []).length === count) resolve()
          else
            reject(
              new Error(
                `stock Uppy uploaded ${(result.successful ?? []).length} of ${count}: ${(result.failed ?? []).map((file) => file.error).join('; ')}`,
              ),
            )
        }),
      )
      const target = host.querySelector('.uppy-Dashboard-inner')!
      target.scrollIntoView()
      const started = performance.now()
      for (const type of ['dragenter', 'dragover', 'drop'])
        target.dispatchEvent(new DragEvent(type, { dataTransfer, bubbles: true, cancelable: true }))
      await done
      const elapsed = performance.now() - started
      uppy.destroy()
      host.remove()
      return { started, elapsed }
    },
    { dataTransfer, count, signEndpoint },
  )
}

/**
 * The plain signing endpoint the Uppy documentation describes: one GET per request to sign, answered
 * with a URL presigned by the AWS SDK (a simple request for CORS: no preflight).
 */
async function startPlainSigner(s3: S3Client, bucket: string) {
  const server: Server = createServer(async (req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*')
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams
    // The key answered for a new object comes back with every later request for it.
    const asked = query.get('key') ?? ''
    const Key = asked.startsWith('bench/stock/') ? asked : `bench/stock/${asked}`
    const UploadId = query.get('uploadId') ?? undefined
    const method = query.get('method')
    const Bucket = bucket
    const options = { expiresIn: 600 }
    let url: string | null = null
    if (method === 'PUT' && UploadId) {
      const PartNumber = Number(query.get('partNumber'))
      url = await getSignedUrl(s3, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber }), options)
    } else if (method === 'PUT') url = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key }), options)
    else if (method === 'POST' && UploadId)
      url = await getSignedUrl(s3, new CompleteMultipartUploadCommand({ Bucket, Key, UploadId }), options)
    else if (method === 'POST')
      url = await getSignedUrl(s3, new CreateMultipartUploadCommand({ Bucket, Key }), options)
    else if (method === 'GET' && UploadId)
      url = await getSignedUrl(s3, new ListPartsCommand({ Bucket, Key, UploadId }), options)
    else if (method === 'DELETE' && UploadId)
      url = await getSignedUrl(s3, new AbortMultipartUploadCommand({ Bucket, Key, UploadId }), options)
    if (!url) {
      res.writeHead(400).end()
      return
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ url, key: Key }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/sign`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
