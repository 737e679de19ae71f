import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { TEST_ADMIN } from '../support/services'
import { button, field, waitFor, WaitFailed, type BrowserPage } from './page'

export interface TestContext {
  page: BrowserPage
  /** The production build on an http APP_ORIGIN (http://localhost:port), as the Playwright suite runs it. */
  appUrl: string
  /** Paths of real images for the Dashboard, one of them above the app's MULTIPART_THRESHOLD_BYTES. */
  images: string[]
}

export interface BrowserTest<C = TestContext> {
  name: string
  run(context: C): Promise<void>
}

const pathOf = (url: string) => {
  const { pathname, search } = new URL(url)
  return `${pathname}${search}`
}
const heading = (page: BrowserPage) => page.evaluate(() => document.querySelector('h1')?.textContent ?? null)

/** Fills and sends the sign-in form the page shows. */
export async function submitSignIn(page: BrowserPage) {
  await page.type(field('Email'), TEST_ADMIN.email)
  await page.type(field('Password'), TEST_ADMIN.password)
  await page.click(button('Sign in'))
}

/** Opens `path` signed in: through the sign-in form when the app sends the browser there. */
async function openSignedIn(page: BrowserPage, appUrl: string, path: string) {
  await page.goto(`${appUrl}${path}`)
  if (new URL(await page.url()).pathname === '/login') {
    await waitFor('the sign-in form', () => heading(page).then((h) => h === 'Sign in'))
    await submitSignIn(page)
  }
  await waitFor(`${path} after sign-in`, async () => {
    const problem = await page.evaluate(() => document.querySelector('[role=alert]')?.textContent)
    if (problem) throw new WaitFailed(`The sign-in page says: ${problem}`)
    return pathOf(await page.url()) === path
  })
}

export const signInTest: BrowserTest = {
  name: 'signing in lands on the page the visitor asked for, with an httpOnly session',
  async run({ page, appUrl }) {
    const wanted = '/products?after=browser-test'
    await page.goto(`${appUrl}${wanted}`)
    await waitFor('the sign-in form', () => heading(page).then((h) => h === 'Sign in'))
    assert.equal(pathOf(await page.url()), `/login?redirectTo=${encodeURIComponent(wanted)}`)
    await submitSignIn(page)
    // Without the session cookie the browser would come back to the sign-in form (and be told why).
    const landed = await waitFor('the products page', async () => {
      const problem = await page.evaluate(() => document.querySelector('[role=alert]')?.textContent)
      if (problem) throw new WaitFailed(`The sign-in page says: ${problem}`)
      return (await heading(page)) === 'Products' && pathOf(await page.url())
    })
    assert.equal(landed, wanted)
    // The session is out of reach of the page's own script.
    assert.equal(await page.evaluate(() => /session/.test(document.cookie)), false)
  },
}

export const batchUploadTest: BrowserTest = {
  name: 'a batch with a multipart file uploads through the Dashboard, saves, and every image shows',
  async run({ page, appUrl, images }) {
    await openSignedIn(page, appUrl, '/products/new')
    await waitFor('the Dashboard', () =>
      page.evaluate(() => !!document.querySelector('.uppy-Dashboard-inner')),
    )
    // The Dashboard's own file input, as choosing files in its "browse files" dialog fills it.
    await page.setFiles('input.uppy-Dashboard-input[name="files[]"]:not([webkitdirectory])', images)
    const uploaded = await waitFor(
      'every upload to finish',
      async () => {
        const { problems, refs } = await page.evaluate(() => ({
          problems: [...document.querySelectorAll('ul[aria-label="Upload problems"] li')].map(
            (item) => item.textContent ?? '',
          ),
          refs: document.querySelectorAll('input[type=hidden][name="imageRef"]').length,
        }))
        if (problems.length > 0) throw new WaitFailed(`The uploader lists problems: ${problems.join('; ')}`)
        return refs === images.length && refs
      },
      { timeoutMs: 60_000 },
    )
    assert.equal(uploaded, images.length)
    // The large file went up in parts (S3 multipart), each PUT straight to the bucket.
    const partsSent = await page.evaluate(
      () =>
        performance
          .getEntriesByType('resource')
          .filter((entry) => /[?&]partNumber=\d+/.test(entry.name) && /[?&]uploadId=/.test(entry.name))
          .length,
    )
    assert.ok(partsSent >= 2, `the multipart file went up in ${partsSent} part(s), not 2 or more`)

    const name = `Browser test ${randomUUID().slice(0, 8)}`
    await page.type(field('Name'), name)
    await page.type(field('Price'), '25.00')
    await waitFor('the Create product button to be enabled', () =>
      page.evaluate(
        () =>
          [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Create product')
            ?.disabled === false,
      ),
    )
    await page.click(button('Create product'))
    await waitFor(
      'the saved product page',
      async () =>
        /^\/products\/[^/]+$/.test(new URL(await page.url()).pathname) && (await heading(page)) === name,
      { timeoutMs: 30_000 },
    )
    // Each image is a placeholder until the worker has made its variants; the page asks again meanwhile.
    let seen = { shown: 0, loaded: 0 }
    const loaded = await waitFor(
      () => `${images.length} images with their pixels loaded (${seen.shown} shown, ${seen.loaded} loaded)`,
      async () => {
        const state = await page.evaluate(() => {
          const shown = [...document.querySelectorAll<HTMLImageElement>('ul[aria-label="Images"] img')]
          // Lazily loaded ones load once scrolled to, as for a person.
          for (const img of shown) if (!img.complete || img.naturalWidth === 0) img.scrollIntoView()
          const ready = shown.filter((img) => img.complete && img.naturalWidth > 0)
          return { shown: shown.length, loaded: ready.length, alts: ready.map((img) => img.alt) }
        })
        seen = state
        return state.shown === images.length && state.loaded === images.length && state.alts
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    )
    assert.deepEqual(
      loaded,
      images.map((_, i) => `${name}, image ${i + 1} of ${images.length}`),
    )
  },
}

export interface CookieDropContext {
  page: BrowserPage
  /** A server reached through a proxy that drops its cookies, as a browser refusing them would. */
  mismatchedUrl: string
  appOrigin: string
}

export const droppedCookieTest: BrowserTest<CookieDropContext> = {
  name: 'a browser that drops the session cookie is told why instead of seeing the form again',
  async run({ page, mismatchedUrl, appOrigin }) {
    await page.goto(`${mismatchedUrl}/login?redirectTo=%2Fproducts`)
    await waitFor('the sign-in form', () => heading(page).then((h) => h === 'Sign in'))
    await submitSignIn(page)
    const message = await waitFor('the message about the cookie', () =>
      page.evaluate(() => document.querySelector('[role=alert]')?.textContent),
    )
    assert.match(message, /^You signed in, but your browser did not keep the session cookie/)
    assert.ok(message.includes(appOrigin), `the message names ${appOrigin}: ${message}`)
    assert.equal(await heading(page), 'Sign in')
  },
}

export interface DevContext {
  page: BrowserPage
  devUrl: string
  /** Everything the development server has printed. */
  devOutput: () => string
}

export const devFirstLoadTest: BrowserTest<DevContext> = {
  name: 'the development server on an empty Vite cache renders the first pages without a reload',
  async run({ page, devUrl, devOutput }) {
    try {
      await page.goto(`${devUrl}/login?redirectTo=%2Fproducts%2Fnew`)
      await waitFor('the sign-in heading', () => heading(page).then((h) => h === 'Sign in'))
      // Hydrated: Conform takes over validation from the browser (the form gets novalidate).
      await waitFor('the sign-in form to hydrate', () =>
        page.evaluate(() => document.querySelector<HTMLFormElement>('form#login')?.noValidate === true),
      )
      // A reload of the document (what re-optimised dependencies cause) would lose this.
      await page.evaluate(() => ((window as unknown as { firstLoad: boolean }).firstLoad = true))
      await submitSignIn(page)
      await waitFor('the new-product page', () => heading(page).then((h) => h === 'New product'), {
        timeoutMs: 60_000,
      })
      await waitFor(
        'the Dashboard',
        () => page.evaluate(() => !!document.querySelector('.uppy-Dashboard-inner')),
        { timeoutMs: 60_000 },
      )
      // Signed in and on to the uploader without the document being loaded again.
      assert.equal(await page.evaluate(() => (window as unknown as { firstLoad?: boolean }).firstLoad), true)
    } finally {
      const reload = /.*optimized dependencies changed.*/.exec(devOutput())
      assert.equal(
        reload,
        null,
        `the dev server re-optimised dependencies and reloaded the page: ${reload?.[0]}`,
      )
    }
  },
}
