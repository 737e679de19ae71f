import { chromium, type Browser, type Page } from '@playwright/test'
import postgres from 'postgres'
import sharp from 'sharp'
import { EarlyChecks } from '../../app/components/uploader/early-checks.client'
import { makeVariants } from '../../app/images/process.server'
import { VARIANT_QUALITY, variantWidths } from '../../app/images/variants'
import { makePhoto } from '../../tests/support/photos'
import { TEST_ADMIN } from '../../tests/support/services'
import { median, sampleRss, MiB, startBenchApp, type BenchContext, type Row } from './support'

const PHOTO = { width: 4000, height: 3000 }
const LIST_PRODUCTS = 24
const BATCH = 20
const UPLOADS_AT_ONCE = 4

/**
 * Processed images on 12 MP camera photos (tests/support/photos.ts: a phone's size and EXIF):
 * processing cost per photo and WebP against AVIF, the time from a 20-photo batch's last upload to all
 * its variants made (by the app server's own worker) and the server's memory meanwhile, and the image
 * bytes Chromium at device pixel ratio 2 downloads for /products and for a product page.
 */
export async function benchImages(): Promise<Row[]> {
  console.log('  making 12 MP photos…')
  const photos = await Promise.all([1, 2, 3].map((seed) => makePhoto(PHOTO.width, PHOTO.height, { seed })))
  const rows: Row[] = [...(await processingRows(photos[0]!))]

  const ctx = await startBenchApp({
    MAX_IMAGE_BYTES: String(20 * MiB),
    MAX_IMAGES_PER_PRODUCT: String(BATCH),
    // The default (1) unless set, to compare: BENCH_IMAGE_CONCURRENCY=2 npm run bench -- images
    IMAGE_PROCESSING_CONCURRENCY: process.env.BENCH_IMAGE_CONCURRENCY ?? '1',
  })
  const sql = postgres(ctx.services.env.DATABASE_URL!, { max: 2, onnotice: () => {} })
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
  try {
    // A 20-photo product, uploaded as the browser does (4 at a time, the finished ones checked in batches).
    // One sampler, stopped below: a sampler never stopped kept `npm run bench` from exiting.
    const rss = sampleRss(ctx.app.process.pid!)
    const rssBefore = await rss.current()
    const started = performance.now()
    const refs = await uploadAll(
      ctx,
      Array.from({ length: BATCH }, (_, i) => photos[i % photos.length]!),
    )
    const lastUpload = performance.now()
    const batchId = await createProduct(ctx, 'Batch of 20', refs)
    await waitUntilProcessed(sql, batchId)
    const ready = performance.now()
    const peak = await rss.stop()
    const cores = (await import('node:os')).availableParallelism()
    rows.push(
      {
        benchmark: `20-photo product: last upload done → all variants ready (${process.env.BENCH_IMAGE_CONCURRENCY ?? 1} at a time)`,
        measured: `${((ready - lastUpload) / 1000).toFixed(1)} s (batch uploaded in ${((lastUpload - started) / 1000).toFixed(1)} s)`,
        baseline: `${BATCH} x ${(perPhotoWall / 1000).toFixed(2)} s = ${((perPhotoWall / 1000) * BATCH).toFixed(1)} s one at a time`,
        result: `${((ready - lastUpload) / 1000).toFixed(1)} s`,
        goal: '-',
        verdict: '-',
      },
      {
        benchmark: `  server peak RSS growth while processing (${cores} cores)`,
        measured: `${((peak - rssBefore) / MiB).toFixed(1)} MiB`,
        baseline: `${(rssBefore / MiB).toFixed(0)} MiB before`,
        result: `${((peak - rssBefore) / MiB).toFixed(1)} MiB`,
        goal: '< 128 MiB',
        verdict: peak - rssBefore < 128 * MiB ? 'PASS' : 'MISS',
      },
    )

    // 24 products of one photo each: /products page 1 at density 2.
    const listRefs = await uploadAll(
      ctx,
      Array.from({ length: LIST_PRODUCTS }, (_, i) => photos[i % photos.length]!),
    )
    const listIds = []
    for (const [i, ref] of listRefs.entries()) listIds.push(await createProduct(ctx, `Listed ${i}`, [ref]))
    for (const id of listIds) await waitUntilProcessed(sql, id)
    const originals = listRefs.reduce((sum, ref) => sum + ref.bytes, 0)
    const page = await signedInPage(browser, ctx)
    const list = await imageBytes(page, `${ctx.app.url}/products`)
    rows.push({
      benchmark: '/products page 1, 24 products of a 12 MP photo, DPR 2',
      measured: `${kb(list.bytes)} in ${list.count} image requests`,
      baseline: `originals ${kb(originals)} (${kb(originals / LIST_PRODUCTS)} each)`,
      result: `${kb(list.bytes / LIST_PRODUCTS)} per product`,
      goal: '<= 80 KB per product',
      verdict: list.bytes / LIST_PRODUCTS <= 80_000 ? 'PASS' : 'MISS',
    })
    const product = await imageBytes(page, `${ctx.app.url}/products/${batchId}`)
    const batchOriginals = refs.reduce((sum, ref) => sum + ref.bytes, 0)
    rows.push({
      benchmark: 'product page, 20 photos, DPR 2: images on opening',
      measured: `${kb(product.bytes)} in ${product.count} image requests`,
      baseline: `originals ${kb(batchOriginals)}`,
      result: kb(product.bytes),
      goal: '<= 600 KB',
      verdict: product.bytes <= 600_000 ? 'PASS' : 'MISS',
    })
    return rows
  } finally {
    await browser.close()
    await sql.end()
    await ctx.app.stop()
    await ctx.services.stop()
  }
}

let perPhotoWall = 0

/** makeVariants in this process: wall and CPU seconds per photo, WebP against AVIF. */
async function processingRows(photo: Buffer): Promise<Row[]> {
  const runs = 5
  const wall: number[] = []
  const cpu: number[] = []
  let webpBytes = 0
  for (let i = 0; i < runs + 1; i++) {
    const t = performance.now()
    const c = process.cpuUsage()
    const made = await makeVariants(photo, { maxPixels: 50e6 })
    const used = process.cpuUsage(c)
    if (i === 0) continue // warm-up
    wall.push(performance.now() - t)
    cpu.push((used.user + used.system) / 1000)
    webpBytes = made.variants.reduce((sum, v) => sum + v.data.length, 0)
  }
  perPhotoWall = median(wall)
  // The same widths encoded as AVIF, from the same decoded base, against WebP.
  const base = await sharp(photo)
    .autoOrient()
    .resize({ width: 2048 })
    .raw()
    .toBuffer({ resolveWithObject: true })
  const encode = async (format: 'webp' | 'avif') => {
    const times: number[] = []
    let bytes = 0
    for (let i = 0; i < 3; i++) {
      const t = performance.now()
      bytes = 0
      for (const width of variantWidths(PHOTO.width)) {
        const pipeline = sharp(base.data, { raw: base.info }).resize({ width })
        const out = await (
          format === 'webp'
            ? pipeline.webp({ quality: VARIANT_QUALITY.webp, effort: 4 })
            : pipeline.avif({ quality: VARIANT_QUALITY.avif, effort: 4 })
        ).toBuffer()
        bytes += out.length
      }
      times.push(performance.now() - t)
    }
    return { ms: median(times), bytes }
  }
  const webp = await encode('webp')
  const avif = await encode('avif')
  return [
    {
      benchmark: 'processing one 12 MP photo (4 widths, WebP)',
      measured: `${(median(wall) / 1000).toFixed(2)} s wall, ${(median(cpu) / 1000).toFixed(2)} CPU s`,
      baseline: `${kb(photo.length)} JPEG in, ${kb(webpBytes)} out`,
      result: `${(median(cpu) / 1000).toFixed(2)} s per photo per core`,
      goal: '-',
      verdict: '-',
    },
    {
      benchmark: '  AVIF instead of WebP, same widths (encode only)',
      measured: `${(avif.ms / 1000).toFixed(2)} s, ${kb(avif.bytes)}`,
      baseline: `WebP ${(webp.ms / 1000).toFixed(2)} s, ${kb(webp.bytes)}`,
      result: `${(avif.ms / webp.ms).toFixed(1)}x time, ${((1 - avif.bytes / webp.bytes) * 100).toFixed(0)}% fewer bytes`,
      goal: 'pays for itself?',
      verdict: avif.ms / webp.ms < 2 ? 'use AVIF' : 'WebP only',
    },
  ]
}

function kb(bytes: number) {
  return `${(bytes / 1000).toFixed(0)} KB`
}

interface Uploaded {
  ref: string
  bytes: number
}

/**
 * Signs and PUTs each photo as the uploader does, a few at a time, and has the finished ones checked as it
 * does (EarlyChecks: together when nothing else is uploading, else within 2 s); returns the references.
 */
async function uploadAll(ctx: BenchContext, bodies: Buffer[]): Promise<Uploaded[]> {
  const headers = { Cookie: ctx.cookie, Origin: ctx.app.url, 'Content-Type': 'application/json' }
  const out: Uploaded[] = new Array(bodies.length)
  let next = 0
  let uploading = 0
  const checked: Promise<void>[] = []
  const checks = new EarlyChecks(
    () => uploading > 0,
    (refs) =>
      checked.push(
        (async () => {
          const check = await fetch(`${ctx.app.url}/uploads/check`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ refs }),
          })
          const answer = (await check.json()) as { results?: { ok?: true; error?: string }[] }
          const refused = answer.results?.find((result) => !result.ok)
          if (!check.ok || refused)
            throw new Error(`check answered ${check.status}: ${JSON.stringify(answer)}`)
        })(),
      ),
  )
  await Promise.all(
    Array.from({ length: UPLOADS_AT_ONCE }, async () => {
      while (next < bodies.length) {
        const i = next++
        const body = bodies[i]!
        uploading += 1
        const signed = (await (
          await fetch(`${ctx.app.url}/uploads/sign`, {
            method: 'POST',
            headers,
            body: JSON.stringify({
              operation: 'putObject',
              fileName: `photo-${i}.jpg`,
              contentType: 'image/jpeg',
              size: body.length,
            }),
          })
        ).json()) as { url: string; headers: Record<string, string>; ref: string }
        const put = await fetch(signed.url, {
          method: 'PUT',
          body: new Uint8Array(body),
          headers: signed.headers,
        })
        if (!put.ok) throw new Error(`PUT answered ${put.status}`)
        uploading -= 1
        checks.add(signed.ref)
        out[i] = { ref: signed.ref, bytes: body.length }
      }
    }),
  )
  await Promise.all(checked)
  return out
}

async function createProduct(ctx: BenchContext, name: string, refs: Uploaded[]) {
  // As the page posts it: multipart, the uploaded images as references.
  const form = new FormData()
  const fields = { name, price: '10.00', description: '', idempotencyKey: crypto.randomUUID() }
  for (const [field, value] of Object.entries(fields)) form.append(field, value)
  for (const ref of refs) form.append('imageRef', ref.ref)
  const response = await fetch(`${ctx.app.url}/products/new`, {
    method: 'POST',
    headers: { Cookie: ctx.cookie, Origin: ctx.app.url },
    body: form,
    redirect: 'manual',
  })
  const id = /\/products\/([0-9a-f-]{36})$/.exec(response.headers.get('location') ?? '')?.[1]
  if (!id) {
    const alert = /role="alert"[^>]*>([\s\S]{0,800})/
      .exec(await response.text())?.[1]
      ?.replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
    throw new Error(`the form answered ${response.status}: ${alert ?? 'no message'}`)
  }
  return id
}

async function waitUntilProcessed(sql: postgres.Sql, productId: string) {
  for (;;) {
    const [row] = await sql<{ waiting: number; failed: number }[]>`
      select count(*) filter (where p.status = 'pending')::int as waiting,
             count(*) filter (where p.status = 'failed')::int as failed
      from product_images i join image_processing p on p.id = i.processing_id
      where i.product_id = ${productId}`
    if (row!.failed > 0) throw new Error(`${row!.failed} images failed processing`)
    if (row!.waiting === 0) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** A page at density 2, signed in through the form (a __Host- cookie cannot be set from outside). */
async function signedInPage(browser: Browser, ctx: BenchContext) {
  const context = await browser.newContext({ deviceScaleFactor: 2, viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  await page.goto(`${ctx.app.url}/login`)
  await page.getByLabel('Email').fill(TEST_ADMIN.email)
  await page.getByLabel('Password').fill(TEST_ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${ctx.app.url}/products`)
  return page
}

/** The image bytes a fresh page load downloads (cache off), lazily loaded ones included once in reach. */
async function imageBytes(page: Page, url: string) {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
  const images = new Map<string, number>()
  const listener = (params: { requestId: string; encodedDataLength: number }) => {
    images.set(params.requestId, params.encodedDataLength)
  }
  const types = new Map<string, string>()
  cdp.on('Network.responseReceived', (params) => types.set(params.requestId, params.type))
  cdp.on('Network.loadingFinished', listener)
  await page.goto(url, { waitUntil: 'networkidle' })
  await cdp.detach()
  let bytes = 0
  let count = 0
  for (const [id, size] of images) {
    if (types.get(id) !== 'Image') continue
    bytes += size
    count++
  }
  return { bytes, count }
}
