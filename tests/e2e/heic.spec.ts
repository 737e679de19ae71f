import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { expect, test } from '@playwright/test'
import { dropFiles } from './drop'
import { expectImagesLoaded, fixture, signIn } from './utils'

// A real iPhone 11 Pro photo (3024 x 4032, Display P3); tests/fixtures/corpus/README.md says where from.
const IPHONE_HEIC = readFileSync('tests/fixtures/corpus/heic/iphone-11-pro-exif-at-eof.heic')

test('an iPhone HEIC dragged in with no type shows the server’s thumbnail, and the saved product shows it', async ({
  page,
}) => {
  await signIn(page, '/products/new')
  const name = `Phone photo ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('12.00')
  // Chromium cannot decode HEIC, and a browser hands a .heic over with an empty type.
  await dropFiles(page, [
    { name: 'IMG_0042.HEIC', type: '', width: 0, height: 0, base64: IPHONE_HEIC.toString('base64') },
  ])
  const item = page.locator('.uppy-Dashboard-Item').filter({ hasText: 'IMG_0042.HEIC' })
  await expect(page.locator('input[type=hidden][name="imageRef"]')).toHaveCount(1, { timeout: 30_000 })
  // Its thumbnail is the server's first variant, made once the upload was checked.
  const thumbnail = item.locator('img.uppy-Dashboard-Item-previewImg')
  await expect(thumbnail).toHaveAttribute('src', /variants\//, { timeout: 30_000 })
  await expect.poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0)
  // Portrait, as the container turns it.
  const shape = await thumbnail.evaluate((img: HTMLImageElement) => img.naturalHeight / img.naturalWidth)
  expect(shape).toBeCloseTo(4032 / 3024, 1)

  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 1)
})

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false })

  test('a HEIC kept after a failed submit is previewed by a variant, never a broken image', async ({
    page,
  }) => {
    await signIn(page, '/products/new')
    await page.getByLabel('Price').fill('3.00')
    await page.getByLabel('Images').setInputFiles(fixture('IMG_0043.HEIC', IPHONE_HEIC))
    // No name: the server sends the form back (the browser's own check is set aside, as a browser
    // without constraint validation would), with the photo already uploaded.
    await page.locator('form[enctype]').evaluate((form: HTMLFormElement) => (form.noValidate = true))
    await page.getByRole('button', { name: 'Create product' }).click()
    const kept = page.getByRole('group', { name: 'Images already uploaded' })
    await expect(kept.getByText('IMG_0043.HEIC')).toBeVisible()
    // It is either still being prepared (a placeholder) or shown from its variant, which loads.
    const preview = kept.getByRole('img', { name: /Uploaded image 1: IMG_0043\.HEIC/ })
    await expect(preview).toBeVisible()
    const tag = await preview.evaluate((element) => element.tagName)
    if (tag === 'IMG') {
      await expect(preview).toHaveAttribute('src', /variants\//)
      await expect
        .poll(() => preview.evaluate((img: HTMLImageElement) => img.naturalWidth))
        .toBeGreaterThan(0)
    } else {
      await expect(preview).toHaveAttribute('data-image-state', 'pending')
    }
    await page.getByLabel('Name').fill(`Kept photo ${randomUUID().slice(0, 8)}`)
    await page.getByRole('button', { name: 'Create product' }).click()
    await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 1)
  })
})
