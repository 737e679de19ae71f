import { randomUUID } from 'node:crypto'
import { expect, test } from '@playwright/test'
import { makePng } from '../support/images'
import { TEST_ADMIN } from '../support/services'
import { expectImagesLoaded, signIn, fixture } from './utils'

test.use({ javaScriptEnabled: false })

test('anonymous visitors are sent to sign in, and come back after', async ({ page }) => {
  for (const url of ['/products', '/products/new']) {
    await page.goto(url)
    await expect(page).toHaveURL(new RegExp(`/login\\?redirectTo=${encodeURIComponent(url)}$`))
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()
  }
  await page.getByLabel('Email').fill(TEST_ADMIN.email)
  await page.getByLabel('Password').fill(TEST_ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/products\/new$/)
  await expect(page.getByRole('heading', { name: 'New product' })).toBeVisible()
})

test('a wrong password is refused with a message', async ({ page }) => {
  await page.goto('/login')
  await page.getByLabel('Email').fill(TEST_ADMIN.email)
  await page.getByLabel('Password').fill('not-the-password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toHaveText('That email and password do not match an admin.')
  await expect(page).toHaveURL(/\/login$/)
  await page.goto('/products')
  await expect(page).toHaveURL(/\/login/)
})

test('creates a product with two images and shows both on its page', async ({ page }) => {
  await signIn(page)
  const name = `Teapot ${randomUUID().slice(0, 8)}`
  await page.getByRole('link', { name: 'New product' }).click()
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('19.99')
  await page.getByLabel('Description').fill('Cast iron, 1 litre.')
  await page
    .getByLabel('Images')
    .setInputFiles([
      fixture('front.png', makePng(120, 80, { rgb: [200, 40, 40] })),
      fixture('back.png', makePng(90, 90, { rgb: [40, 160, 40] })),
    ])
  await page.getByRole('button', { name: 'Create product' }).click()

  await expect(page).toHaveURL(/\/products\/[0-9a-f-]{36}$/)
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expect(page.getByText('$19.99')).toBeVisible()
  await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 2)
  await expect(page.getByRole('img', { name: `${name}, image 1 of 2` })).toHaveAttribute('width', '120')
  await expect(page.getByRole('img', { name: `${name}, image 2 of 2` })).toHaveAttribute('width', '90')

  await page.getByRole('link', { name: '← All products' }).click()
  const card = page.getByRole('link', { name: new RegExp(name) })
  await expect(card).toBeVisible()
  await expect(card.getByRole('img')).toHaveAttribute('alt', name)
})

test('a validation error keeps every value and the uploaded images', async ({ page }) => {
  await signIn(page, '/products/new')
  // Only spaces: the browser's `required` lets it through, the server's trim does not.
  await page.getByLabel('Name').fill('   ')
  await page.getByLabel('Price').fill('12.34')
  await page.getByLabel('Description').fill('Keeps this text')
  await page
    .getByLabel('Images')
    .setInputFiles([fixture('one.png', makePng(50, 40)), fixture('two.png', makePng(60, 30))])
  const answer = page.waitForResponse((r) => r.request().method() === 'POST')
  await page.getByRole('button', { name: 'Create product' }).click()
  expect((await answer).status()).toBe(400)

  await expect(page.getByRole('alert')).toContainText('Enter a name.')
  // Focus lands on the summary, whose problem links to its field.
  await expect(page.getByRole('alert')).toBeFocused()
  const problem = page.getByRole('alert').getByRole('link', { name: 'Enter a name.' })
  await expect(problem).toHaveAttribute('href', '#name')
  await problem.click()
  await expect(page.getByLabel('Name')).toBeFocused()
  await expect(page.getByLabel('Name')).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByLabel('Name')).toHaveAccessibleDescription('Enter a name.')
  await expect(page.getByLabel('Price')).toHaveValue('12.34')
  await expect(page.getByLabel('Description')).toHaveValue('Keeps this text')
  await expect(page.getByRole('img', { name: 'Uploaded image 1: one.png' })).toBeVisible()
  await expect(page.getByRole('img', { name: 'Uploaded image 2: two.png' })).toBeVisible()
  // Their previews: placeholders until the worker has made the variants, never the staged originals.
  await expect(page.locator('.kept-images [role="img"]')).toHaveCount(2)

  const name = `Bowl ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expect(page.getByText('$12.34')).toBeVisible()
  await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 2)
  await expect(page.getByRole('img', { name: `${name}, image 1 of 2` })).toHaveAttribute('width', '50')
  await expect(page.getByRole('img', { name: `${name}, image 2 of 2` })).toHaveAttribute('width', '60')
})

test('a file that is not an image is refused by name', async ({ page }) => {
  await signIn(page, '/products/new')
  const name = `Fake ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('1')
  await page
    .getByLabel('Images')
    .setInputFiles([fixture('notes.png', Buffer.from('<html><script>alert(1)</script></html>'))])
  await page.getByRole('button', { name: 'Create product' }).click()

  await expect(page.getByRole('alert')).toContainText(
    /notes\.png is not an image we accept \(JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF\)/,
  )
  await expect(page.getByLabel('Images')).toHaveAccessibleDescription(/notes\.png is not an image/)
  await expect(page.getByLabel('Name')).toHaveValue(name)
  await page.goto('/products')
  await expect(page.getByRole('link', { name: new RegExp(name) })).toHaveCount(0)
})

test('a form posted from another origin is refused', async ({ page, request }) => {
  await signIn(page)
  const cookies = await page.context().cookies()
  const response = await request.post('/products/new', {
    headers: {
      Origin: 'https://evil.example',
      Cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; '),
    },
    multipart: { name: 'Evil', price: '1' },
    maxRedirects: 0,
  })
  expect(response.status()).toBe(403)
})

test('deletes a product after a confirmation step', async ({ page }) => {
  await signIn(page, '/products/new')
  const name = `Doomed ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('3')
  await page.getByLabel('Images').setInputFiles([fixture('gone.png', makePng(30, 30))])
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  const productUrl = page.url()

  await page.getByRole('link', { name: 'Delete product' }).click()
  await expect(page.getByRole('heading', { name: `Delete ${name}?` })).toBeVisible()
  await expect(page.getByText('The product and its image will be removed for good.')).toBeVisible()
  await page.getByRole('link', { name: 'Cancel' }).click()
  await expect(page).toHaveURL(productUrl)

  await page.getByRole('link', { name: 'Delete product' }).click()
  await page.getByRole('button', { name: 'Delete product' }).click()
  await expect(page).toHaveURL(/\/products$/)
  await expect(page.getByRole('link', { name: new RegExp(name) })).toHaveCount(0)
  const gone = await page.goto(productUrl)
  expect(gone?.status()).toBe(404)
})
