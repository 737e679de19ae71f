import { randomUUID } from 'node:crypto'
import { expect, test, type Browser, type Locator, type Page } from '@playwright/test'
import postgres from 'postgres'
import { makePhoto } from '../support/photos'
import { expectImagesLoaded, fixture, signIn } from './utils'

test.use({ deviceScaleFactor: 2, viewport: { width: 1280, height: 900 } })

const services = JSON.parse(process.env.E2E_SERVICES_ENV ?? '{}') as Record<string, string>

/** Creates a product with one camera photo (JavaScript off) and waits until its variants exist. */
async function productWithPhoto(browser: Browser, baseURL: string) {
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL })
  const page = await context.newPage()
  await signIn(page, '/products/new')
  const name = `Photo ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('12.00')
  await page.getByLabel('Images').setInputFiles(fixture('camera.jpg', await makePhoto(1600, 1200)))
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  const id = /\/products\/([0-9a-f-]{36})$/.exec(page.url())![1]!
  await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 1)
  await context.close()
  return { name, id }
}

/** Every image request the page makes to the bucket, and variant responses held back `delayMs`. */
async function watchImages(page: Page, delayMs: number) {
  const requested: string[] = []
  page.on('request', (request) => {
    if (request.resourceType() === 'image' && !request.url().startsWith('data:'))
      requested.push(request.url())
  })
  await page.route('**/variants/**', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    await route.continue()
  })
  return requested
}

const path = (url: string) => decodeURIComponent(new URL(url).pathname)

/** Waits until the image has loaded real pixels; returns the path of the candidate the browser chose. */
async function loadedFrom(image: Locator) {
  await expect
    .poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
    .toBeGreaterThan(0)
  return path(await image.evaluate((img: HTMLImageElement) => img.currentSrc))
}

test('the list and the product page load the variant their layout needs, never the original, placeholder first', async ({
  page,
  browser,
  baseURL,
}) => {
  const { name, id } = await productWithPhoto(browser, baseURL!)
  // Signed in on a page without images, so that none is in the browser's cache yet.
  await signIn(page, '/products/new')
  const requested = await watchImages(page, 3_000)

  await page.goto(`/products/${id}`, { waitUntil: 'domcontentloaded' })
  const image = page.getByRole('img', { name: `${name}, image 1 of 1` })
  // While its bytes are on their way the blurred placeholder is painted, at the final size.
  await expect(image).toHaveAttribute('data-placeholder', 'painted')
  expect(await image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeFalsy()
  expect(await image.evaluate((img) => getComputedStyle(img).backgroundImage)).toMatch(
    /^url\("data:image\/png/,
  )
  await expect(image).toHaveAttribute('width', '1600')
  await expect(image).toHaveAttribute('height', '1200')
  // A gallery cell is 216 CSS px wide at this viewport: at density 2 the 512 px variant, not 1600.
  expect(await loadedFrom(image)).toMatch(/\/variants\/.+\/512\.webp$/)
  // Loaded, the placeholder is taken away (a transparent image would show it through).
  await expect.poll(() => image.evaluate((img) => getComputedStyle(img).backgroundImage)).toBe('none')
  await expect(image).not.toHaveAttribute('data-placeholder')

  await page.goto('/products', { waitUntil: 'domcontentloaded' })
  const card = page.getByRole('link', { name: new RegExp(name) }).getByRole('img')
  await expect(card).toHaveAttribute('data-placeholder', 'painted')
  // A card is 216 CSS px wide: at density 2 the 512 px variant.
  expect(await loadedFrom(card)).toMatch(/\/variants\/.+\/512\.webp$/)

  expect(requested.length).toBeGreaterThan(0)
  for (const url of requested.filter((u) => !u.startsWith(baseURL!))) {
    expect(path(url)).toContain('/variants/')
  }
})

test('a page whose image is slow to prepare keeps asking past a minute, and then says it is taking longer', async ({
  page,
  browser,
  baseURL,
}) => {
  const { name, id } = await productWithPhoto(browser, baseURL!)
  // As if no worker had got to it yet: pending, no variants (and no job, so it stays so).
  const sql = postgres(services.DATABASE_URL!, { max: 1, onnotice: () => {} })
  try {
    await sql`
      delete from image_variants
      where processing_id in (select processing_id from product_images where product_id = ${id})`
    await sql`
      update image_processing set status = 'pending', variant_version = null
      where id in (select processing_id from product_images where product_id = ${id})`
  } finally {
    await sql.end()
  }
  await signIn(page, '/products/new')
  const asks: string[] = []
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (url.searchParams.has('_data') || url.pathname.endsWith('.data')) asks.push(url.pathname)
  })
  // The page's timers run on a clock the test moves: minutes pass in moments.
  await page.clock.install()
  await page.goto(`/products/${id}`)
  const pending = page.getByRole('img', { name: `${name}, image 1 of 1 (being prepared)` })
  await expect(pending).toBeVisible()
  const note = page.getByText('Still being prepared — this is taking longer than usual.')
  await expect(note).toHaveCount(0)

  // Far past the minute pages used to ask for: each jump of 30 s (the longest wait) brings one more ask.
  for (let n = 1; n <= 45; n++) {
    await expect
      .poll(
        async () => {
          await page.clock.fastForward(30_000)
          return asks.length
        },
        { intervals: [50], timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(n)
  }
  await expect(note).toBeVisible()
  await expect(
    page.getByRole('img', { name: `${name}, image 1 of 1 (still being prepared, taking longer than usual)` }),
  ).toBeVisible()
})

test.describe('with JavaScript off', () => {
  test.use({ javaScriptEnabled: false })

  test('an image that cannot be processed is marked with its reason, and can be removed', async ({
    page,
  }) => {
    await signIn(page, '/products/new')
    const name = `Broken ${randomUUID().slice(0, 8)}`
    await page.getByLabel('Name').fill(name)
    await page.getByLabel('Price').fill('5.00')
    const photo = await makePhoto(800, 600)
    await page
      .getByLabel('Images')
      .setInputFiles([
        fixture('cut.jpg', photo.subarray(0, Math.floor(photo.length / 2))),
        fixture('whole.jpg', photo),
      ])
    await page.getByRole('button', { name: 'Create product' }).click()
    await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()

    // The worker fails it within moments; until then it is a placeholder (reload, as without JavaScript).
    const failed = page.locator('[data-image-state="failed"]')
    await expect
      .poll(
        async () => {
          if ((await failed.count()) === 0) await page.reload()
          return failed.count()
        },
        { timeout: 30_000 },
      )
      .toBe(1)
    // In words that name the file and say what to do; the decoder's own words stay in the log.
    await expect(failed).toContainText(
      'cut.jpg could not be shown. It is damaged or incomplete: export or download it again, then add it.',
    )
    await expect(failed).not.toContainText(/vips|jpeg:|premature|corrupt/i)
    await expect(
      page.getByRole('img', { name: `${name}, image 1 of 2 (could not be processed)` }),
    ).toBeVisible()
    await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 1)

    await page.getByRole('link', { name: 'Edit product' }).click()
    await expect(page.locator('[data-image-state="failed"]')).toContainText('cut.jpg could not be shown.')
    await page.getByLabel('Remove Image 1', { exact: true }).check()
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
    await expect(page.locator('[data-image-state="failed"]')).toHaveCount(0)
    await expect(page.getByRole('list', { name: 'Images' }).locator('li')).toHaveCount(1)
  })
})
