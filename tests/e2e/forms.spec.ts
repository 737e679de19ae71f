import { randomUUID } from 'node:crypto'
import { expect, test } from '@playwright/test'
import { dropFiles } from './drop'
import { signIn } from './utils'

test('with JavaScript, the editor checks each field as the admin leaves it, and a submit with a problem sends nothing', async ({
  page,
}) => {
  await signIn(page, '/products/new')
  const posts: string[] = []
  page.on('request', (request) => {
    if (request.method() === 'POST') posts.push(request.url())
  })
  await dropFiles(page, [{ name: 'stays.png', type: 'image/png', width: 60, height: 40 }])
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1, { timeout: 20_000 })
  // Leaving a field checks it, by the same schema the action uses; nothing is summarised yet.
  const price = page.getByLabel('Price')
  await price.fill('free')
  await price.press('Tab')
  await expect(price).toHaveAttribute('aria-invalid', 'true')
  await expect(price).toHaveAccessibleDescription(/Enter a price like 19\.99/)
  await expect(page.getByRole('alert')).toHaveCount(0)

  // A submit with problems goes nowhere: the summary takes focus and links to each field.
  await page.getByRole('button', { name: 'Create product' }).click()
  const summary = page.getByRole('alert')
  await expect(summary).toBeFocused()
  await expect(summary.getByRole('link')).toHaveText(['Enter a name.', /Enter a price like 19\.99/])
  expect(posts.filter((url) => !url.includes('/uploads/'))).toEqual([])
  // The upload stays where it was, in the Dashboard.
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1)

  // Fixing a field clears its problem as the admin types.
  const name = `Checked ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await expect(summary.getByRole('link')).toHaveText([/Enter a price like 19\.99/])
  await price.fill('4.50')
  await expect(price).not.toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByRole('alert')).toHaveCount(0)
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expect(page.getByText('$4.50')).toBeVisible()
})
