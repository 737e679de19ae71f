import { randomUUID } from 'node:crypto'
import { expect, test, type Page } from '@playwright/test'
import { dropFiles } from './drop'
import { signIn, throttleUploads } from './utils'

const leaveDialog = (page: Page) => page.getByRole('alertdialog', { name: 'Leave this page?' })

async function openNewProduct(page: Page) {
  await signIn(page, '/products/new')
  await expect(page.locator('.uppy-Dashboard-inner')).toBeVisible()
}

test('a link away from changes not saved asks first; staying keeps them, leaving goes', async ({ page }) => {
  await openNewProduct(page)
  await page.getByLabel('Name').fill('Half-typed lamp')
  await page.getByRole('link', { name: '← All products' }).click()
  await expect(leaveDialog(page)).toContainText('Your changes to this product are not saved.')
  await page.getByRole('button', { name: 'Stay on this page' }).click()
  await expect(leaveDialog(page)).toHaveCount(0)
  await expect(page).toHaveURL(/\/products\/new$/)
  await expect(page.getByLabel('Name')).toHaveValue('Half-typed lamp')

  await page.getByRole('link', { name: '← All products' }).click()
  await page.getByRole('button', { name: 'Leave and lose them' }).click()
  await expect(page).toHaveURL(/\/products$/)
})

test('an untouched form lets the admin go without asking', async ({ page }) => {
  await openNewProduct(page)
  await page.getByRole('link', { name: '← All products' }).click()
  await expect(page).toHaveURL(/\/products$/)
})

test('while an image uploads, a link away says so, and closing the tab asks the browser', async ({
  page,
}) => {
  await openNewProduct(page)
  await throttleUploads(page, 256 * 1024)
  await dropFiles(page, [
    { name: 'slow.png', type: 'image/png', width: 600, height: 400, padTo: 3 * 1024 * 1024 },
  ])
  await expect(page.getByRole('status').filter({ hasText: '1 image is still uploading' })).toBeVisible()
  await page.getByRole('link', { name: '← All products' }).click()
  await expect(leaveDialog(page)).toContainText('1 image is still uploading, and leaving stops it.')
  await page.getByRole('button', { name: 'Stay on this page' }).click()

  const asked = page.waitForEvent('dialog')
  await page.close({ runBeforeUnload: true })
  const dialog = await asked
  expect(dialog.type()).toBe('beforeunload')
  await dialog.accept()
})

test('what the admin typed comes back after a reload, can be set aside, and is gone once saved', async ({
  page,
}) => {
  await openNewProduct(page)
  const name = `Drafted kettle ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Description').fill('Copper, 1.5 litres.')
  // The browser asks before the reload; the admin goes ahead.
  page.once('dialog', (dialog) => void dialog.accept())
  await page.reload()
  await expect(page.getByRole('status').filter({ hasText: 'is back' })).toBeVisible()
  await expect(page.getByLabel('Name')).toHaveValue(name)
  await expect(page.getByLabel('Description')).toHaveValue('Copper, 1.5 litres.')

  // Starting over empties the form and forgets the draft.
  await page.getByRole('button', { name: 'Start over' }).click()
  await expect(page.getByLabel('Name')).toHaveValue('')
  await page.reload()
  await expect(page.getByLabel('Name')).toHaveValue('')

  // Typed again and saved: no question on the way to the product, and a new form opens empty.
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('30.00')
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expect(leaveDialog(page)).toHaveCount(0)
  await page.goto('/products/new')
  await expect(page.getByLabel('Name')).toHaveValue('')
  await expect(page.getByRole('status').filter({ hasText: 'is back' })).toHaveCount(0)
})
