import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { expect, test, type Page, type Route } from '@playwright/test'
import { partLayout } from '../../app/uploads/limits'
import { makePng } from '../support/images'
import { s3ClientFor } from '../support/services'
import { fixture, signIn } from './utils'

const MiB = 1024 * 1024
const services = JSON.parse(process.env.E2E_SERVICES_ENV ?? '{}') as Record<string, string>
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64')

/** A real PNG padded with random bytes, so that every part of it differs. */
function paddedPng(size: number) {
  const png = makePng(120, 90)
  return Buffer.concat([png, randomBytes(size - png.length)])
}

async function addFile(page: Page, name: string, bytes: Buffer) {
  await signIn(page, '/products/new')
  await expect(page.locator('.uppy-Dashboard-inner')).toBeVisible()
  await page.locator('.uppy-Dashboard-input').first().setInputFiles(fixture(name, bytes))
}

/** Saves the product and reads back the bytes of its one original from the bucket. */
async function saveAndReadOriginal(page: Page) {
  const name = `Checked ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('12.00')
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  const productId = /\/products\/([^/?]+)$/.exec(page.url())![1]!
  const s3 = s3ClientFor(services)
  try {
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: services.S3_BUCKET, Prefix: `originals/${productId}/` }),
    )
    expect(listed.Contents).toHaveLength(1)
    const object = await s3.send(
      new GetObjectCommand({ Bucket: services.S3_BUCKET, Key: listed.Contents![0]!.Key }),
    )
    return Buffer.from(await object.Body!.transformToByteArray())
  } finally {
    s3.destroy()
  }
}

/**
 * Sends `route`'s request once with one byte of its body changed (as a flaky proxy or bad memory
 * might) and hands the browser S3's answer; returns that answer's status and body.
 */
async function sendDamaged(route: Route, bytes: Buffer) {
  const damaged = Buffer.from(bytes)
  damaged[damaged.length >> 1]! ^= 0xff
  const response = await route.fetch({ postData: damaged })
  const answer = { status: response.status(), body: await response.text() }
  await route.fulfill({ response })
  return answer
}

test('a part damaged on its way is refused by S3 for its digest, sent again from the file, and the saved image is the file byte for byte', async ({
  page,
}) => {
  const size = 17 * MiB
  const bytes = paddedPng(size)
  const { partSize, count } = partLayout(size)
  expect(count).toBeGreaterThanOrEqual(2)
  const part2 = bytes.subarray(partSize, Math.min(2 * partSize, size))
  const sentDigests: Record<string, string[]> = {}
  const damaged: { status: number; body: string }[] = []
  page.on('request', (request) => {
    const partNumber = new URL(request.url()).searchParams.get('partNumber')
    if (request.method() === 'PUT' && partNumber)
      (sentDigests[partNumber] ??= []).push(request.headers()['content-md5'] ?? '')
  })
  await page.route(
    (url) => url.searchParams.get('partNumber') === '2',
    async (route) => {
      if (damaged.length > 0) return route.continue()
      damaged.push(await sendDamaged(route, part2))
    },
  )
  await addFile(page, 'poster.png', bytes)

  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1, { timeout: 30_000 })
  expect(damaged).toEqual([{ status: 400, body: expect.stringContaining('BadDigest') }])
  // Each part went with the digest of its own bytes; part 2 twice, once refused.
  expect(sentDigests['1']).toEqual([md5(bytes.subarray(0, partSize))])
  expect(sentDigests['2']).toEqual([md5(part2), md5(part2)])
  expect(Buffer.compare(await saveAndReadOriginal(page), bytes)).toBe(0)
})

test('a single PUT damaged on its way is refused by S3 and sent again, and the saved image is the file', async ({
  page,
}) => {
  const bytes = paddedPng(3 * MiB)
  const damaged: { status: number; body: string }[] = []
  const sentDigests: string[] = []
  page.on('request', (request) => {
    if (request.method() === 'PUT' && request.url().includes('X-Amz-Signature'))
      sentDigests.push(request.headers()['content-md5'] ?? '')
  })
  await page.route(
    (url) => url.searchParams.has('X-Amz-Signature') && url.pathname.includes('/staging/'),
    async (route) => {
      if (route.request().method() !== 'PUT' || damaged.length > 0) return route.continue()
      damaged.push(await sendDamaged(route, bytes))
    },
  )
  await addFile(page, 'small.png', bytes)

  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1, { timeout: 30_000 })
  expect(damaged).toEqual([{ status: 400, body: expect.stringContaining('BadDigest') }])
  expect(sentDigests).toEqual([md5(bytes), md5(bytes)])
  expect(Buffer.compare(await saveAndReadOriginal(page), bytes)).toBe(0)
})

test('only the digest worker may compile WebAssembly: the page’s policy does not allow it', async ({
  page,
  request,
}) => {
  const workers: string[] = []
  page.on('worker', (worker) => workers.push(worker.url()))
  const signed: string[] = []
  page.on('request', (r) => {
    if (r.url().endsWith('/uploads/sign')) signed.push(r.postData() ?? '')
  })
  await addFile(page, 'tiny.png', makePng(40, 30))
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1, { timeout: 30_000 })
  // The upload was signed with its digest, so the worker did compile hash-wasm under its policy.
  expect(signed.join('\n')).toMatch(/"md5":"[0-9a-f]{32}"/)
  const scriptSrc = (csp: string | undefined) =>
    (csp ?? '').split(';').find((directive) => directive.trim().startsWith('script-src')) ?? ''
  const pageCsp = (await request.get('/products/new')).headers()['content-security-policy']
  expect(scriptSrc(pageCsp)).not.toContain('wasm-unsafe-eval')
  const digestWorker = workers.find((url) => /digest\.worker/.test(url))!
  const workerCsp = (await request.get(digestWorker)).headers()['content-security-policy']
  expect(scriptSrc(workerCsp)).toContain("'wasm-unsafe-eval'")
  const thumbnails = workers.find((url) => /thumbnails\.worker/.test(url))
  if (thumbnails)
    expect(scriptSrc((await request.get(thumbnails)).headers()['content-security-policy'])).not.toContain(
      'wasm-unsafe-eval',
    )
})
