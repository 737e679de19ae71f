import { randomUUID } from 'node:crypto'
import { expect, test } from '@playwright/test'
import { dropFiles } from './drop'
import { expectImagesLoaded, signIn } from './utils'

const MiB = 1024 * 1024
/** The outage the admin's train tunnel makes: the 60 s, longer than any URL lives here. */
const OUTAGE_MS = 60_000

test('a batch whose network is gone for a minute waits, says so, then goes on by itself, its URLs signed again', async ({
  page,
}) => {
  test.setTimeout(180_000)
  // This server signs URLs for two seconds: every URL signed before the outage has expired after it.
  const base = `http://localhost:${process.env.E2E_SHORT_TTL_PORT}`
  await signIn(page, '/products/new', base)
  await expect(page.locator('.uppy-Dashboard-inner')).toBeVisible()
  // Chromium's network emulation, one session for the uplink and the outage (two would fight).
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  const network = (offline: boolean, uploadThroughput: number) =>
    cdp.send('Network.emulateNetworkConditions', {
      offline,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput,
    })
  await network(false, 4 * MiB)
  // The link drops as the large file's second part starts: that request fails as Chromium fails it
  // offline, and the emulation keeps every later one failing for the outage.
  let dropped = false
  const linkGone = new Promise<void>((resolve) =>
    page.route(
      (url) => url.searchParams.get('partNumber') === '2',
      async (route) => {
        if (dropped) return route.fallback()
        dropped = true
        await network(true, 0)
        await route.abort('internetdisconnected')
        resolve()
      },
    ),
  )
  await dropFiles(page, [
    { name: 'poster.png', type: 'image/png', width: 120, height: 90, padTo: 20 * MiB },
    { name: 'front.png', type: 'image/png', width: 100, height: 80 },
    { name: 'back.png', type: 'image/png', width: 80, height: 100 },
  ])
  await linkGone
  // Mid-batch: the large file's first part is up, the rest is not.
  await expect(page.locator('input[name="imageRef"]')).not.toHaveCount(3)
  const notice = page.getByRole('status').filter({ hasText: 'You are offline' })
  await expect(notice).toBeVisible()
  // The outage itself is the scenario: nothing to wait for but time.
  await page.waitForTimeout(OUTAGE_MS)
  // Nothing failed meanwhile: the uploads wait for the network (Uppy's S3 client holds each request).
  const problems = page.getByRole('list', { name: 'Upload problems' }).getByRole('listitem')
  await expect(problems).toHaveCount(0)
  await expect(page.getByRole('button', { name: 'Create product' })).toBeDisabled()

  const signedAfter: string[] = []
  page.on('request', (request) => request.url().endsWith('/uploads/sign') && signedAfter.push(request.url()))
  await network(false, -1)
  await expect(notice).toBeHidden()
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(3, { timeout: 60_000 })
  await expect(problems).toHaveCount(0)
  // The URLs signed before the outage had expired: what went up after it was signed again.
  expect(signedAfter.length).toBeGreaterThan(0)

  const name = `Tunnel ${randomUUID().slice(0, 8)}`
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('8.00')
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expectImagesLoaded(page, 'ul[aria-label="Images"] img', 3)
})
