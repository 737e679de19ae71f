import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, type Page } from '@playwright/test'
import { TEST_ADMIN } from '../support/services'

export async function signIn(page: Page, redirectTo = '/products', baseURL = '') {
  await page.goto(`${baseURL}/login?redirectTo=${encodeURIComponent(redirectTo)}`)
  await page.getByLabel('Email').fill(TEST_ADMIN.email)
  await page.getByLabel('Password').fill(TEST_ADMIN.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(new RegExp(`${redirectTo.replace(/[/?]/g, '\\$&')}$`))
}

/**
 * Waits until `count` <img> match (an image whose variants are still being made is a placeholder, not
 * an <img>: the page is loaded again until the worker has made them) and each has loaded real pixels.
 */
export async function expectImagesLoaded(page: Page, selector: string, count: number) {
  const images = page.locator(selector)
  await expect
    .poll(
      async () => {
        const found = await images.count()
        if (found < count) await page.reload()
        return found
      },
      { timeout: 30_000, intervals: [250, 500, 1000] },
    )
    .toBe(count)
  for (let i = 0; i < count; i++) {
    await expect
      .poll(() => images.nth(i).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBeGreaterThan(0)
  }
}

const fixtures = path.join(os.tmpdir(), 'product-images-e2e')

/** Writes `bytes` to a file called `name` (in a folder of its own) for setInputFiles; returns its path. */
export function fixture(name: string, bytes: Buffer) {
  const folder = path.join(fixtures, randomUUID())
  mkdirSync(folder, { recursive: true })
  const file = path.join(folder, name)
  writeFileSync(file, bytes)
  return file
}

/** Slows this page's uploads to `bytesPerSecond` (Chromium's network emulation), or lifts the limit. */
export async function throttleUploads(page: Page, bytesPerSecond: number | null) {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond ?? -1,
  })
}
