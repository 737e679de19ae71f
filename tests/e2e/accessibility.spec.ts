import { randomUUID } from 'node:crypto'
import AxeBuilder from '@axe-core/playwright'
import { expect, test, type Page } from '@playwright/test'
import { makePng } from '../support/images'
import { dropFiles } from './drop'
import { expectImagesLoaded, fixture, signIn } from './utils'

/** axe-core's WCAG 2.0–2.2 A and AA rules on the page as it is now; serious and critical findings fail. */
async function expectNoSeriousViolations(page: Page, state: string) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze()
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(serious, `${state}: ${serious.join('\n')}`).toEqual([])
}

/** A product made through the form without JavaScript, with its variants made; returns its id. */
async function productWithImages(page: Page) {
  await page.goto('/products/new')
  const name = `Audited ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('9.50')
  await page
    .getByLabel('Images')
    .setInputFiles([fixture('one.png', makePng(120, 90)), fixture('two.png', makePng(90, 120))])
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 2)
  return /\/products\/([0-9a-f-]{36})$/.exec(page.url())![1]!
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(`with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    // axe runs in the page, so the page needs JavaScript; "off" keeps the app's own scripts from loading,
    // which leaves exactly the server's HTML, as a browser without JavaScript shows it.
    test.beforeEach(async ({ page }) => {
      if (!javaScriptEnabled) await page.route(/\/assets\/.*\.js$/, (route) => route.abort())
    })

    test('every page state meets WCAG 2.2 AA (axe: no serious or critical violation)', async ({
      page,
      browser,
      baseURL,
    }) => {
      test.setTimeout(90_000)
      await page.goto('/login')
      await expectNoSeriousViolations(page, 'sign-in')
      await page.getByLabel('Email').fill('nobody@example.com')
      await page.getByLabel('Password').fill('wrong password')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await expect(page.getByRole('alert')).toBeVisible()
      await expectNoSeriousViolations(page, 'sign-in with its error')

      await signIn(page, '/products/new')
      await expectNoSeriousViolations(page, 'new product, empty')
      // Only spaces: the browser's `required` lets it through, the server's trim does not.
      await page.getByLabel('Name').fill('   ')
      await page.getByLabel('Price').fill('1.00')
      await page.getByRole('button', { name: 'Create product' }).click()
      await expect(page.getByRole('alert')).toBeFocused()
      await expect(page.getByRole('alert').getByRole('link', { name: 'Enter a name.' })).toHaveAttribute(
        'href',
        '#name',
      )
      await expectNoSeriousViolations(page, 'new product with field errors')
      if (javaScriptEnabled) {
        await dropFiles(page, [{ name: 'dropped.png', type: 'image/png', width: 80, height: 60 }])
        await expect(page.locator('input[name="imageRef"]')).toHaveCount(1, { timeout: 20_000 })
        await expectNoSeriousViolations(page, 'new product with an upload in the Dashboard')
      }

      const context = await browser.newContext({ javaScriptEnabled: false, baseURL })
      const maker = await context.newPage()
      await signIn(maker, '/products/new')
      const id = await productWithImages(maker)
      await context.close()

      await page.goto('/products')
      await expectNoSeriousViolations(page, 'product list')
      // The list with nothing in it: a page past the oldest product (the database is shared by the tests).
      await page.goto('/products?after=0_00000000-0000-0000-0000-000000000000')
      await expect(page.getByText('No older products.')).toBeVisible()
      await expect(page.getByRole('list', { name: 'Products' })).toHaveCount(0)
      await expectNoSeriousViolations(page, 'product list, empty')
      await page.goto('/products')
      // A card's ring is drawn around the whole card, outside the box that clips its image.
      const card = page.getByRole('list', { name: 'Products' }).locator('li').first()
      await card.getByRole('link').focus()
      await page.keyboard.press('Shift+Tab')
      await page.keyboard.press('Tab')
      expect(await card.evaluate((li) => getComputedStyle(li).outlineStyle)).toBe('solid')
      await page.goto(`/products/${id}`)
      await expectNoSeriousViolations(page, 'a product')
      await page.goto(`/products/${id}/edit`)
      await expectNoSeriousViolations(page, 'edit, with saved images')
      await page.getByRole('button', { name: 'Move Image 2 up' }).click()
      await expect(page.locator('#reorder-status')).toContainText('moved to position 1')
      await expectNoSeriousViolations(page, 'edit, after a Move')
      await page.goto(`/products/${id}/delete`)
      await expectNoSeriousViolations(page, 'delete')
    })
  })
}
