import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import { randomUUID } from 'node:crypto'
import { expect, test, type Page, type Request } from '@playwright/test'
import { dropFiles, type DropFile } from './drop'
import { expectImagesLoaded, signIn, throttleUploads } from './utils'
import { makePhoto } from '../support/photos'
import { s3ClientFor } from '../support/services'

const MiB = 1024 * 1024
const services = JSON.parse(process.env.E2E_SERVICES_ENV ?? '{}') as Record<string, string>

function s3() {
  return s3ClientFor(services)
}

async function openNewProduct(page: Page, baseURL?: string) {
  await signIn(page, '/products/new', baseURL)
  await expect(page.locator('.uppy-Dashboard-inner')).toBeVisible()
  // The plain input is for JavaScript off; the Dashboard replaces it.
  await expect(page.locator('input#images')).toHaveCount(0)
}

const submit = (page: Page) => page.getByRole('button', { name: 'Create product' })
const fileItem = (page: Page, name: string) => page.locator('.uppy-Dashboard-Item').filter({ hasText: name })
const uploadProblem = (page: Page, name: string) =>
  page.getByRole('list', { name: 'Upload problems' }).getByRole('listitem').filter({ hasText: name })

async function fillFields(page: Page, name: string) {
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('25.00')
}

test('a dropped batch of 8 images, one multipart, uploads while the admin types and lands in order', async ({
  page,
}) => {
  await openNewProduct(page)
  const batch: DropFile[] = Array.from({ length: 8 }, (_, i) => ({
    name: `photo-${i + 1}.png`,
    type: 'image/png',
    width: 101 + i,
    height: 80,
    ...(i === 4 ? { padTo: 17 * MiB } : {}),
  }))
  const multipartCreates: string[] = []
  const batches: { operation: string; requests?: unknown[] }[] = []
  const checked: string[][] = []
  // Parts of the multipart file in flight at once (the patched @uppy/aws-s3 sends them in parallel).
  let partsInFlight = 0
  let mostPartsInFlight = 0
  const isPart = (url: string) => new URL(url).searchParams.has('partNumber')
  page.on('request', (request) => {
    const url = request.url()
    if (request.method() === 'POST' && new URL(url).searchParams.has('uploads')) multipartCreates.push(url)
    if (url.endsWith('/uploads/sign')) {
      const body = request.postDataJSON() as { operation: string; requests?: unknown[] }
      if (body.operation === 'batch') batches.push(body)
    }
    if (url.endsWith('/uploads/check')) checked.push((request.postDataJSON() as { refs: string[] }).refs)
    if (request.method() === 'PUT' && isPart(url))
      mostPartsInFlight = Math.max(mostPartsInFlight, ++partsInFlight)
  })
  const partDone = (request: Request) => {
    if (request.method() === 'PUT' && isPart(request.url())) partsInFlight -= 1
  }
  page.on('requestfinished', partDone)
  page.on('requestfailed', partDone)
  await throttleUploads(page, 8 * MiB)
  await dropFiles(page, batch)

  // Thumbnails and progress while the uploads run; saving waits for them.
  await expect(page.locator('.uppy-Dashboard-Item-previewImg')).toHaveCount(8)
  await expect(page.locator('#upload-status')).toContainText(/still uploading/)
  await expect(submit(page)).toBeDisabled()
  await expect(page.locator('.uppy-StatusBar-progress')).toBeVisible()
  // Finished uploads join the form together, once nothing is uploading: one change for Conform to read,
  // not one per file while the others still go up. Read at one moment, so the large file cannot finish
  // between the checks.
  await expect(fileItem(page, 'photo-1.png')).toHaveClass(/is-complete/)
  const midway = await page.evaluate(() => ({
    stillUploading: /still uploading/.test(document.querySelector('#upload-status')?.textContent ?? ''),
    refsInForm: document.querySelectorAll('input[name="imageRef"]').length,
  }))
  expect(midway).toEqual({ stillUploading: true, refsInForm: 0 })
  const name = `Batch ${randomUUID().slice(0, 8)}`
  await fillFields(page, name)
  await page.getByLabel('Description').fill('Typed while uploading.')

  await expect(page.locator('input[name="imageRef"]')).toHaveCount(8, { timeout: 30_000 })
  await expect(page.locator('#upload-status')).toHaveText('')
  expect(multipartCreates).toHaveLength(1)
  // The whole drop was signed in one round trip, and so were the parts of the multipart file.
  expect(batches[0]?.requests).toHaveLength(8)
  expect(batches.map((batch) => batch.requests?.length)).toEqual([8, 3])
  expect(mostPartsInFlight).toBeGreaterThanOrEqual(2)
  // Each finished upload went to the server's check (its variants start there) once, in batches, not a
  // request per file.
  const refs = await page
    .locator('input[name="imageRef"]')
    .evaluateAll((inputs) => inputs.map((input) => (input as HTMLInputElement).value))
  await expect.poll(() => checked.flat().sort()).toEqual([...refs].sort())
  expect(checked.length).toBeLessThan(batch.length)
  await submit(page).click()

  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expect(page.getByText('Typed while uploading.')).toBeVisible()
  await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 8)
  for (const [i, spec] of batch.entries()) {
    await expect(page.getByRole('img', { name: `${name}, image ${i + 1} of 8` })).toHaveAttribute(
      'width',
      String(spec.width),
    )
  }
})

test('a failed image shows its error and is retried alone', async ({ page }) => {
  await openNewProduct(page)
  // Storage refuses every upload of broken.png until the route is lifted: a bad signature, as a
  // misconfigured bucket would answer. Automatic retries give up after three attempts.
  let refused = 0
  type Signed = { url: string }
  const spoil = (signed: Signed) => {
    refused += 1
    return { ...signed, url: signed.url.replace(/X-Amz-Signature=\w+/, 'X-Amz-Signature=0000') }
  }
  await page.route('**/uploads/sign', async (route) => {
    const body = route.request().postDataJSON() as {
      fileName?: string
      requests?: { fileName?: string }[]
    }
    const response = await route.fetch()
    if (body.requests) {
      // The drop is signed ahead in one batch: spoil only broken.png's answer.
      const { results } = (await response.json()) as { results: Signed[] }
      const json = {
        results: results.map((signed, i) =>
          body.requests![i]!.fileName === 'broken.png' ? spoil(signed) : signed,
        ),
      }
      return route.fulfill({ response, json })
    }
    if (body.fileName !== 'broken.png') return route.fulfill({ response })
    return route.fulfill({ response, json: spoil((await response.json()) as Signed) })
  })
  await dropFiles(page, [
    { name: 'fine-1.png', type: 'image/png', width: 60, height: 40 },
    { name: 'broken.png', type: 'image/png', width: 70, height: 40 },
    { name: 'fine-2.png', type: 'image/png', width: 80, height: 40 },
  ])
  await expect(uploadProblem(page, 'broken.png')).toContainText('Retrying…')
  await expect(page.locator('#upload-status')).toHaveText(/1 image is still uploading/)
  // Three automatic retries (1 s, 3 s, 6 s apart), each signed anew, then the error stays for the admin.
  await expect(uploadProblem(page, 'broken.png')).not.toContainText('Retrying', { timeout: 20_000 })
  await expect(uploadProblem(page, 'broken.png')).toContainText('Storage did not accept the upload')
  expect(refused).toBe(4)
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(2)
  await expect(page.locator('#upload-status')).toHaveText(/1 image failed: retry or remove it/)
  await expect(submit(page)).toBeDisabled()

  await page.unroute('**/uploads/sign')
  const otherUploads: string[] = []
  page.on('request', (r) => r.method() === 'PUT' && otherUploads.push(r.url()))
  await fileItem(page, 'broken.png').getByRole('button', { name: 'Retry upload' }).click()
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(3)
  await expect(page.getByRole('list', { name: 'Upload problems' }).getByRole('listitem')).toHaveCount(0)
  expect(otherUploads).toHaveLength(1)
  await expect(submit(page)).toBeEnabled()

  const name = `Retried ${randomUUID().slice(0, 8)}`
  await fillFields(page, name)
  await submit(page).click()
  await expect(page.getByRole('img', { name: `${name}, image 2 of 3` })).toHaveAttribute('width', '70')
})

test('an upload that outlives its URLs completes without help', async ({ page }) => {
  // This server signs URLs for two seconds and sends one request at a time; the file takes several
  // times that at 2 MiB/s, so the parts signed ahead are stale by their turn and are signed again.
  const base = `http://localhost:${process.env.E2E_SHORT_TTL_PORT}`
  await openNewProduct(page, base)
  const signs: number[] = []
  page.on('request', (r) => r.url().endsWith('/uploads/sign') && signs.push(Date.now()))
  await throttleUploads(page, 2 * MiB)
  const started = Date.now()
  await dropFiles(page, [{ name: 'slow.png', type: 'image/png', width: 90, height: 60, padTo: 20 * MiB }])
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1, { timeout: 45_000 })
  expect(Date.now() - started).toBeGreaterThan(3 * 2000)
  expect(signs.length).toBeGreaterThanOrEqual(4)

  const name = `Slow ${randomUUID().slice(0, 8)}`
  await fillFields(page, name)
  await submit(page).click()
  await expect(page.getByRole('img', { name: `${name}, image 1 of 1` })).toHaveAttribute('width', '90')
})

test('pausing a multipart upload and resuming it lists the parts already uploaded', async ({ page }) => {
  await openNewProduct(page)
  const listParts: string[] = []
  let partsDone = 0
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (r.method() === 'GET' && url.searchParams.has('uploadId')) listParts.push(r.url())
  })
  page.on('response', (r) => {
    if (r.request().method() === 'PUT' && new URL(r.url()).searchParams.has('partNumber') && r.ok())
      partsDone += 1
  })
  await throttleUploads(page, 4 * MiB)
  await dropFiles(page, [{ name: 'poster.png', type: 'image/png', width: 120, height: 90, padTo: 20 * MiB }])
  await expect.poll(() => partsDone, { timeout: 20_000 }).toBeGreaterThanOrEqual(1)
  await fileItem(page, 'poster.png').getByRole('button', { name: 'Pause upload' }).click()
  await expect(fileItem(page, 'poster.png').getByRole('button', { name: 'Resume upload' })).toBeVisible()
  const pausedAt = partsDone
  await throttleUploads(page, null)
  await fileItem(page, 'poster.png').getByRole('button', { name: 'Resume upload' }).click()
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1, { timeout: 20_000 })
  expect(listParts.length).toBeGreaterThanOrEqual(1)
  expect(partsDone).toBeLessThanOrEqual(3 + 1) // 3 parts in all; at most the interrupted one is sent again
  expect(pausedAt).toBeGreaterThanOrEqual(1)
})

test('removing a file mid-upload aborts its multipart upload in S3', async ({ page }) => {
  await openNewProduct(page)
  let key = ''
  page.on('response', async (r) => {
    if (r.url().endsWith('/uploads/sign') && r.ok()) {
      const json = (await r.json().catch(() => ({}))) as { key?: string; results?: { key?: string }[] }
      const found = json.key ?? json.results?.find((signed) => signed.key)?.key
      if (found) key = found
    }
  })
  const aborts: string[] = []
  page.on('request', (r) => r.method() === 'DELETE' && aborts.push(r.url()))
  await throttleUploads(page, 2 * MiB)
  await dropFiles(page, [
    { name: 'cancel-me.png', type: 'image/png', width: 50, height: 50, padTo: 20 * MiB },
  ])
  await expect.poll(() => key).not.toBe('')
  const client = s3()
  const uploads = () =>
    client
      .send(new ListMultipartUploadsCommand({ Bucket: services.S3_BUCKET, Prefix: key }))
      .then((r) => r.Uploads ?? [])
  await expect.poll(async () => (await uploads()).length).toBe(1)
  await fileItem(page, 'cancel-me.png').getByRole('button', { name: 'Remove file' }).click()
  await expect.poll(() => aborts.length).toBe(1)
  await expect.poll(async () => (await uploads()).length).toBe(0)
  await expect(page.locator('.uppy-Dashboard-Item')).toHaveCount(0)
  client.destroy()
})

test('an HTML file renamed .png uploads but is refused at submit, by name', async ({ page }) => {
  await openNewProduct(page)
  await dropFiles(page, [
    { name: 'real.png', type: 'image/png', width: 64, height: 64 },
    {
      name: 'page.png',
      type: 'image/png',
      width: 1,
      height: 1,
      text: '<!doctype html><h1>not an image</h1>',
    },
  ])
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(2)
  const name = `Sneaky ${randomUUID().slice(0, 8)}`
  await fillFields(page, name)
  await submit(page).click()
  await expect(page.getByRole('alert')).toContainText(
    'page.png is not an image we accept (JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF).',
  )
  // The good image is kept (as an uploaded preview) and the values stay.
  await expect(page.getByRole('img', { name: 'Uploaded image 1: real.png' })).toBeVisible()
  await expect(page.getByLabel('Name')).toHaveValue(name)
  await submit(page).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expect(page.getByRole('img', { name: `${name}, image 1 of 1` })).toHaveAttribute('width', '64')
})

test('the signing route refuses anonymous and cross-origin callers', async ({ page, request }) => {
  const body = { operation: 'putObject', fileName: 'a.png', contentType: 'image/png', size: 10 }
  const anonymous = await request.post('/uploads/sign', { data: body })
  expect(anonymous.status()).toBe(401)
  await signIn(page)
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ')
  const foreign = await request.post('/uploads/sign', {
    data: body,
    headers: { Cookie: cookie, Origin: 'https://evil.example' },
  })
  expect(foreign.status()).toBe(403)
  const outside = await request.post('/uploads/sign', {
    data: { operation: 'listParts', key: 'products/someone/1.png', uploadId: 'x', ref: 'x.y' },
    headers: { Cookie: cookie },
  })
  expect(outside.status()).toBe(403)
  expect((await outside.json()).error).toBe('That key is outside your upload namespace.')
})

test('the Dashboard refuses what the server would, with a message, before any upload', async ({ page }) => {
  await openNewProduct(page)
  const signs: string[] = []
  page.on('request', (r) => r.url().endsWith('/uploads/sign') && signs.push(r.url()))
  await dropFiles(page, [{ name: 'notes.txt', type: 'text/plain', width: 1, height: 1, text: 'hello' }])
  await expect(page.locator('.uppy-Informer').first()).toContainText('You can only upload: image/jpeg')
  await dropFiles(page, [{ name: 'huge.png', type: 'image/png', width: 10, height: 10, padTo: 25 * MiB }])
  await expect(page.locator('.uppy-Informer').first()).toContainText(
    /huge\.png exceeds maximum allowed size of 24 MB/,
  )
  await expect(page.locator('.uppy-Dashboard-Item')).toHaveCount(0)
  expect(signs).toHaveLength(0)
})

test('thumbnails are made for the rows in view in the Dashboard, and for the others once scrolled to', async ({
  page,
}) => {
  // A narrow window: two files to a row, two rows in the Dashboard's view.
  await page.setViewportSize({ width: 480, height: 900 })
  await openNewProduct(page)
  const batch: DropFile[] = Array.from({ length: 10 }, (_, i) => ({
    name: `row-${String(i + 1).padStart(2, '0')}.png`,
    type: 'image/png',
    width: 60 + i,
    height: 40,
  }))
  await dropFiles(page, batch)
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(10, { timeout: 30_000 })
  const preview = (name: string) => fileItem(page, name).locator('img.uppy-Dashboard-Item-previewImg')
  await expect(preview('row-01.png')).toBeVisible()
  expect(await preview('row-01.png').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(240)
  // The last row is out of the list's view: no thumbnail until it is scrolled to.
  await expect(fileItem(page, 'row-10.png')).toHaveCount(1)
  await expect(preview('row-10.png')).toHaveCount(0)
  await page.locator('.uppy-Dashboard-files').evaluate((list) => list.scrollTo(0, list.scrollHeight))
  await expect(preview('row-10.png')).toBeVisible()
})

test('a phone photo’s thumbnail is upright, as its EXIF orientation says', async ({ page }) => {
  await openNewProduct(page)
  // Stored 1600 x 1200, shown turned a quarter (orientation 6), as phones save portraits.
  const photo = await makePhoto(1600, 1200, { orientation: 6 })
  await dropFiles(page, [
    { name: 'portrait.jpg', type: 'image/jpeg', width: 0, height: 0, base64: photo.toString('base64') },
  ])
  const preview = fileItem(page, 'portrait.jpg').locator('img.uppy-Dashboard-Item-previewImg')
  await expect(preview).toBeVisible()
  expect(await preview.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([
    240, 320,
  ])
})
