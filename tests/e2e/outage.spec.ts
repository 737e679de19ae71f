import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { freePort } from '../../server/processes'
import { startAppServer, type AppServer } from '../support/app-server'
import { startTestServices, type TestServices } from '../support/services'
import { dropFiles } from './drop'
import { signIn } from './utils'

// This spec stalls the services under a running app, so it has its own. Submits give up after 4 s here
// (SUBMIT_TIMEOUT_SECONDS; 25 s by default), so the test need not wait the default.
test.describe.configure({ mode: 'serial' })

let services: TestServices
let app: AppServer

test.beforeAll(async () => {
  services = await startTestServices(await freePort())
  app = await startAppServer({ ...services.env, SUBMIT_TIMEOUT_SECONDS: '4' })
})

test.afterAll(async () => {
  await app?.stop()
  await services?.stop()
})

const pidIn = (file: string) =>
  Number(readFileSync(path.join(services.env.DATA_DIR!, file), 'utf8').split('\n')[0])

/** The process and its children (PostgreSQL's backends serve the open connections), by parent pid. */
function withChildren(pid: number): number[] {
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid
      } catch {
        return false
      }
    })
    .map(Number)
  return [pid, ...children]
}

/** Freezes the processes (a stalled service: connections open, no answers) until the returned thaw. */
function stall(pids: number[]) {
  for (const pid of pids) process.kill(pid, 'SIGSTOP')
  return () => pids.forEach((pid) => process.kill(pid, 'SIGCONT'))
}

async function fillNewProduct(page: Page, name: string) {
  await signIn(page, '/products/new', app.url)
  await dropFiles(page, [{ name: 'kept-through-outage.png', type: 'image/png', width: 90, height: 60 }])
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1)
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('42.00')
  await page.getByLabel('Description').fill('Typed before the outage')
}

async function expectFormKept(page: Page, name: string, message: RegExp) {
  await expect(page.getByRole('alert')).toContainText(message, { timeout: 30_000 })
  await expect(page.getByLabel('Name')).toHaveValue(name)
  await expect(page.getByLabel('Price')).toHaveValue('42.00')
  await expect(page.getByLabel('Description')).toHaveValue('Typed before the outage')
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1)
}

/**
 * Fills a new product with an uploaded image, freezes `pids` and submits: the form must come back within
 * 30 s with `message`, every value and the image; once they thaw, the same form saves.
 */
async function submitThroughOutage(page: Page, pids: () => number[], message: RegExp) {
  test.setTimeout(90_000)
  const name = `Through an outage ${Date.now()}`
  await fillNewProduct(page, name)
  const thaw = stall(pids())
  try {
    const started = Date.now()
    await page.getByRole('button', { name: 'Create product' }).click()
    await expectFormKept(page, name, message)
    expect(Date.now() - started).toBeLessThan(30_000)
  } finally {
    thaw()
  }
  await page.getByRole('button', { name: 'Create product' }).click()
  await expect(page.getByRole('heading', { name })).toBeVisible()
  await expect(page.getByRole('img').first()).toBeVisible()
}

test('a submit while S3 stalls comes back with every value and the staged image, then saves', async ({
  page,
}) => {
  await submitThroughOutage(
    page,
    () => [pidIn('ceph/run/client.rgw.pid')],
    /Image storage is not answering right now, so nothing was saved/,
  )
})

test('a submit while PostgreSQL stalls comes back with every value and the staged image, then saves', async ({
  page,
}) => {
  await submitThroughOutage(
    page,
    () => withChildren(pidIn('postgres/postmaster.pid')),
    /The database is not answering right now, so nothing was saved/,
  )
})

test('an edit saved while PostgreSQL stalls comes back with every value, then saves', async ({ page }) => {
  test.setTimeout(90_000)
  const name = `Edited through an outage ${Date.now()}`
  await fillNewProduct(page, `Before the edit ${Date.now()}`)
  await page.getByRole('button', { name: 'Create product' }).click()
  await page.getByRole('link', { name: 'Edit product' }).click()
  await page.getByLabel('Name').fill(name)
  await page.getByLabel('Price').fill('42.00')
  await page.getByLabel('Description').fill('Typed before the outage')
  const thaw = stall(withChildren(pidIn('postgres/postmaster.pid')))
  try {
    const started = Date.now()
    await page.getByRole('button', { name: 'Save changes' }).click()
    await expect(page.getByRole('alert')).toContainText(
      /The database is not answering right now, so nothing was saved/,
      {
        timeout: 30_000,
      },
    )
    await expect(page.getByLabel('Name')).toHaveValue(name)
    await expect(page.getByLabel('Description')).toHaveValue('Typed before the outage')
    expect(Date.now() - started).toBeLessThan(30_000)
  } finally {
    thaw()
  }
  await page.getByRole('button', { name: 'Save changes' }).click()
  await expect(page.getByRole('heading', { name })).toBeVisible()
})
