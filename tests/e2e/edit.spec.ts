import { HeadObjectCommand } from '@aws-sdk/client-s3'
import { randomUUID } from 'node:crypto'
import { expect, test, type Browser, type Locator, type Page } from '@playwright/test'
import { makePng } from '../support/images'
import { s3ClientFor } from '../support/services'
import { dropFiles } from './drop'
import { expectImagesLoaded, fixture, signIn, throttleUploads } from './utils'

const services = JSON.parse(process.env.E2E_SERVICES_ENV ?? '{}') as Record<string, string>

/** Widths tell the images apart wherever they are shown: image i (1-based) is 100 + i pixels wide. */
const width = (i: number) => 100 + i

/** Creates a product with `count` images through the form with JavaScript off; returns its name and id. */
async function createProduct(browser: Browser, baseURL: string, count: number) {
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL })
  const page = await context.newPage()
  await signIn(page, '/products/new')
  const name = `Lamp ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('40.00')
  await page
    .getByLabel('Images')
    .setInputFiles(
      Array.from({ length: count }, (_, i) =>
        fixture(`lamp-${i + 1}.png`, makePng(width(i + 1), 60, { rgb: [40 * i, 90, 160] })),
      ),
    )
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  const id = /\/products\/([0-9a-f-]{36})$/.exec(page.url())![1]!
  // The worker makes the variants within moments; the tests below start from a product that has them.
  await expectImagesLoaded(page, 'ul[aria-label="Images"] img', count)
  await context.close()
  return { name, id }
}

const savedImages = (page: Page) => page.getByRole('list', { name: 'Saved images, in order' }).locator('li')
const status = (page: Page) => page.locator('#reorder-status')

/** The widths of the images in a list, in their order on the page. */
async function widths(images: Locator) {
  return images.locator('img').evaluateAll((imgs) => imgs.map((img) => Number(img.getAttribute('width'))))
}

/** The object key behind an image's URL (presigned or public), to check the bucket directly. */
async function objectKey(image: Locator) {
  const src = (await image.getAttribute('src'))!
  return decodeURIComponent(new URL(src).pathname.split('/').slice(2).join('/'))
}

async function expectObjectGone(key: string) {
  const error = await s3ClientFor(services)
    .send(new HeadObjectCommand({ Bucket: services.S3_BUCKET, Key: key }))
    .then(() => null)
    .catch((e: { name?: string }) => e)
  expect(error?.name).toBe('NotFound')
}

test.describe('with JavaScript off', () => {
  test.use({ javaScriptEnabled: false })

  test('edits the fields, reorders with Move buttons, sets alt text, removes and adds images', async ({
    page,
    browser,
    baseURL,
  }) => {
    const { name, id } = await createProduct(browser, baseURL!, 3)
    await signIn(page, `/products/${id}`)
    await page.getByRole('link', { name: 'Edit product' }).click()
    await expect(page.getByRole('heading', { name: `Edit ${name}` })).toBeVisible()
    expect(await widths(savedImages(page))).toEqual([width(1), width(2), width(3)])
    await expect(savedImages(page).first()).toContainText('Primary')

    const renamed = `${name} (desk)`
    await page.getByLabel('Name').fill(renamed)
    await page.getByLabel('Price').fill('42.50')
    await page.getByLabel('Alt text for Image 2').fill('Green lamp, side view')
    // Without JavaScript a move is a round trip: the form comes back reordered, every value kept.
    await page.getByRole('button', { name: 'Move Image 3 up' }).click()
    await expect(status(page)).toHaveText('Image 3 moved to position 2 of 3. Save to keep the new order.')
    // Focus comes back to the button that was pressed, described by what it did.
    const moveUp = page.getByRole('button', { name: 'Move Image 3 up' })
    await expect(moveUp).toBeFocused()
    await expect(moveUp).toHaveAccessibleDescription(
      'Image 3 moved to position 2 of 3. Save to keep the new order.',
    )
    expect(await widths(savedImages(page))).toEqual([width(1), width(3), width(2)])
    await expect(page.getByLabel('Name')).toHaveValue(renamed)
    await expect(page.getByLabel('Alt text for Image 2')).toHaveValue('Green lamp, side view')
    await expect(page.getByRole('button', { name: 'Move Image 1 up' })).toHaveAttribute(
      'aria-disabled',
      'true',
    )

    const removedKey = await objectKey(savedImages(page).first().locator('img'))
    await page.getByLabel('Remove Image 1').check()
    await page.getByLabel('Add images').setInputFiles(fixture('new.png', makePng(width(4), 60)))
    await page.getByRole('button', { name: 'Save changes' }).click()

    await expect(page).toHaveURL(new RegExp(`/products/${id}$`))
    await expect(page.getByRole('heading', { level: 1, name: renamed })).toBeVisible()
    await expect(page.getByText('$42.50')).toBeVisible()
    const gallery = page.getByRole('list', { name: 'Images' }).locator('li')
    await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 3)
    expect(await widths(gallery)).toEqual([width(3), width(2), width(4)])
    await expect(gallery.nth(1).getByRole('img')).toHaveAttribute('alt', 'Green lamp, side view')
    await expectObjectGone(removedKey)

    // Stored: a reload and the edit form show the saved order; the primary image leads the list.
    await page.reload()
    expect(await widths(gallery)).toEqual([width(3), width(2), width(4)])
    await page.goto('/products')
    await expect(
      page.getByRole('link', { name: new RegExp(renamed.replace(/[()]/g, '\\$&')) }).getByRole('img'),
    ).toHaveAttribute('width', String(width(3)))
    await page.goto(`/products/${id}/edit`)
    expect(await widths(savedImages(page))).toEqual([width(3), width(2), width(4)])
    await expect(page.getByLabel('Alt text for Green lamp, side view')).toHaveValue('Green lamp, side view')
  })

  test('a bad value keeps the new order, the alt texts, the removals and the new uploads', async ({
    page,
    browser,
    baseURL,
  }) => {
    const { id } = await createProduct(browser, baseURL!, 2)
    await signIn(page, `/products/${id}/edit`)
    await page.getByRole('button', { name: 'Move Image 2 up' }).click()
    await page.getByLabel('Alt text for Image 1').fill('Kept alt')
    await page.getByLabel('Remove Image 2').check()
    await page.getByLabel('Price').fill('free')
    await page.getByLabel('Add images').setInputFiles(fixture('extra.png', makePng(width(5), 60)))
    // The browser's own pattern check would stop "free"; the server must say it too.
    await page.locator('form[enctype]').evaluate((form: HTMLFormElement) => (form.noValidate = true))
    await page.getByRole('button', { name: 'Save changes' }).click()

    await expect(page.getByRole('alert')).toContainText('Enter a price like 19.99')
    await expect(page.getByLabel('Price')).toHaveAttribute('aria-invalid', 'true')
    expect(await widths(savedImages(page))).toEqual([width(2), width(1)])
    await expect(page.getByLabel('Alt text for Image 1')).toHaveValue('Kept alt')
    await expect(page.getByLabel('Remove Image 2')).toBeChecked()
    await expect(page.getByRole('group', { name: 'New images already uploaded' })).toContainText('extra.png')

    await page.getByLabel('Price').fill('9.00')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect(page).toHaveURL(new RegExp(`/products/${id}$`))
    const gallery = page.getByRole('list', { name: 'Images' }).locator('li')
    await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 2)
    expect(await widths(gallery)).toEqual([width(1), width(5)])
    await expect(gallery.first().getByRole('img')).toHaveAttribute('alt', 'Kept alt')
  })

  test('a save on top of someone else’s save is refused, keeping the text', async ({
    page,
    browser,
    baseURL,
  }) => {
    const { id } = await createProduct(browser, baseURL!, 1)
    await signIn(page, `/products/${id}/edit`)
    const other = await browser.newContext({ javaScriptEnabled: false, baseURL })
    const otherPage = await other.newPage()
    await signIn(otherPage, `/products/${id}/edit`)
    await otherPage.getByLabel('Alt text for Image 1').fill('Their alt')
    await otherPage.getByRole('button', { name: 'Save changes' }).click()
    await expect(otherPage).toHaveURL(new RegExp(`/products/${id}$`))
    await other.close()

    await page.getByLabel('Description').fill('My description')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect(page.getByRole('alert')).toContainText(
      'Someone saved this product after you opened this page',
    )
    await expect(page.getByLabel('Description')).toHaveValue('My description')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect(page).toHaveURL(new RegExp(`/products/${id}$`))
    await expect(page.getByText('My description')).toBeVisible()
    await expect(page.getByRole('img', { name: 'Their alt' })).toBeVisible()
  })
})

test.describe('with JavaScript on', () => {
  async function openEdit(page: Page, id: string) {
    await signIn(page, `/products/${id}/edit`)
    // Hydrated: the drag handles and the Dashboard are there.
    await expect(page.getByRole('button', { name: 'Reorder Image 1', exact: true })).toBeVisible()
    await expect(page.locator('.uppy-Dashboard-inner')).toBeVisible()
  }

  test('reorders by buttons, keyboard and drag, with every move announced, and saves it all', async ({
    page,
    browser,
    baseURL,
  }) => {
    const { name, id } = await createProduct(browser, baseURL!, 4)
    await openEdit(page, id)
    let requests = 0
    page.on('request', (request) => {
      if (request.method() === 'POST') requests += 1
    })

    // Buttons reorder in place and keep focus on the button, so it can be pressed again.
    const down = page.getByRole('button', { name: 'Move Image 1 down' })
    await down.click()
    await expect(status(page)).toHaveText('Image 1 moved to position 2 of 4.')
    await expect(down).toBeFocused()
    expect(await widths(savedImages(page))).toEqual([width(2), width(1), width(3), width(4)])
    await expect(savedImages(page).first()).toContainText('Primary')

    // Keyboard: Space picks the image up, arrows move it, Space drops it.
    await page.getByRole('button', { name: 'Reorder Image 4' }).focus()
    await page.keyboard.press('Space')
    await expect(status(page)).toContainText('Image 4 picked up, at position 4 of 4.')
    await page.keyboard.press('ArrowUp')
    await expect(status(page)).toHaveText('Image 4 moved to position 3 of 4.')
    await page.keyboard.press('ArrowUp')
    await expect(status(page)).toHaveText('Image 4 moved to position 2 of 4.')
    await expect(page.getByRole('button', { name: 'Reorder Image 4' })).toBeFocused()
    await page.keyboard.press('Space')
    await expect(status(page)).toHaveText('Image 4 dropped at position 2 of 4.')
    expect(await widths(savedImages(page))).toEqual([width(2), width(4), width(1), width(3)])

    // Escape puts a picked-up image back; the first image cannot go further up, and says so.
    await page.getByRole('button', { name: 'Reorder Image 2' }).focus()
    await page.keyboard.press('Space')
    await page.keyboard.press('ArrowUp')
    await expect(status(page)).toHaveText('Image 2 is already first.')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Escape')
    await expect(status(page)).toHaveText('Reordering cancelled. Image 2 is back at position 1 of 4.')
    expect(await widths(savedImages(page))).toEqual([width(2), width(4), width(1), width(3)])

    // Drag with the pointer: Image 3's handle onto the first image.
    const handle = page.getByRole('button', { name: 'Reorder Image 3' })
    const from = (await handle.boundingBox())!
    const to = (await savedImages(page).first().locator('img').boundingBox())!
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
    await page.mouse.down()
    await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 8 })
    await page.mouse.up()
    await expect(status(page)).toHaveText('Image 3 moved to position 1 of 4.')
    expect(await widths(savedImages(page))).toEqual([width(3), width(2), width(4), width(1)])
    // Every move so far happened in the page.
    expect(requests).toBe(0)

    await page.getByLabel('Alt text for Image 4').fill('Lamp from above')
    await page.getByLabel('Remove Image 1').check()
    await expect(status(page)).toHaveText('Image 1 will be removed when you save.')
    // A slow upload: the fields change while it runs, and Enter in a field cannot save before it ends.
    await throttleUploads(page, 256 * 1024)
    await dropFiles(page, [
      { name: 'added.png', type: 'image/png', width: width(6), height: 60, padTo: 2 * 1024 * 1024 },
    ])
    const renamed = `${name} (brass)`
    await page.getByLabel('Name').fill(renamed)
    await page.getByLabel('Price').fill('55.00')
    await page.getByLabel('Description').fill('Brass, with a linen shade.')
    await expect(page.locator('#upload-status')).toContainText('1 image is still uploading')
    await page.getByLabel('Name').press('Enter')
    await expect(page.getByRole('button', { name: 'Save changes' })).toBeDisabled()
    await throttleUploads(page, null)
    await expect(page.locator('input[name="imageRef"]')).toHaveCount(1, { timeout: 20_000 })
    expect(new URL(page.url()).pathname).toBe(`/products/${id}/edit`)
    await page.getByRole('button', { name: 'Save changes' }).click()

    await expect(page).toHaveURL(new RegExp(`/products/${id}$`))
    await expect(page.getByRole('heading', { level: 1, name: renamed })).toBeVisible()
    await expect(page.getByText('$55.00')).toBeVisible()
    await expect(page.getByText('Brass, with a linen shade.')).toBeVisible()
    const gallery = page.getByRole('list', { name: 'Images' }).locator('li')
    await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 4)
    expect(await widths(gallery)).toEqual([width(3), width(2), width(4), width(6)])
    await expect(gallery.nth(2).getByRole('img')).toHaveAttribute('alt', 'Lamp from above')
    await page.reload()
    expect(await widths(gallery)).toEqual([width(3), width(2), width(4), width(6)])
  })

  test('ticking Remove makes room in the uploader for another image', async ({ page, browser, baseURL }) => {
    const max = Number(services.MAX_IMAGES_PER_PRODUCT ?? 10)
    const { id } = await createProduct(browser, baseURL!, max)
    await openEdit(page, id)
    const replacement = { name: 'replacement.png', type: 'image/png', width: width(max + 1), height: 60 }
    // Full: the Dashboard refuses before any upload.
    await dropFiles(page, [replacement])
    await expect(page.locator('.uppy-Informer').first()).toContainText(
      `A product has at most ${max} images; remove one to add another.`,
    )
    await expect(page.locator('.uppy-Dashboard-Item')).toHaveCount(0)

    await page.getByLabel('Remove Image 1', { exact: true }).check()
    await dropFiles(page, [replacement])
    await expect(page.locator('input[name="imageRef"]')).toHaveCount(1, { timeout: 20_000 })
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect(page).toHaveURL(new RegExp(`/products/${id}$`))
    const gallery = page.getByRole('list', { name: 'Images' }).locator('li')
    await expect(gallery).toHaveCount(max)
    await expectImagesLoaded(page, 'ul[aria-label="Images"] img', max)
    expect((await widths(gallery)).at(-1)).toBe(width(max + 1))
  })

  test('deletes a product after the confirmation', async ({ page, browser, baseURL }) => {
    const { name, id } = await createProduct(browser, baseURL!, 1)
    await openEdit(page, id)
    const key = await objectKey(savedImages(page).first().locator('img'))
    await page.getByRole('link', { name: 'Delete product' }).click()
    await expect(page.getByRole('heading', { name: `Delete ${name}?` })).toBeVisible()
    await page.getByRole('button', { name: 'Delete product' }).click()
    await expect(page).toHaveURL(/\/products$/)
    await expect(page.getByRole('link', { name: new RegExp(name) })).toHaveCount(0)
    await page.goto(`/products/${id}`)
    await expect(page.getByText('No product has that address.')).toBeVisible()
    await expectObjectGone(key)
  })
})
