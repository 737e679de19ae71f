import { expect, test } from '@playwright/test'
import { dropFiles } from './drop'
import { signIn } from './utils'

// The production build on http://localhost: the cookie follows APP_ORIGIN's scheme, so it is the one
// every engine keeps over http. An https APP_ORIGIN's __Host-session (Secure) is in admin-auth.test.ts.
test('the session cookie of an http APP_ORIGIN is __session, httpOnly and SameSite=Lax, not Secure', async ({
  page,
}) => {
  await signIn(page)
  const cookies = await page.context().cookies()
  expect(cookies.map((c) => c.name)).toEqual(['__session'])
  expect(cookies[0]).toMatchObject({ secure: false, httpOnly: true, sameSite: 'Lax', path: '/' })
})

test('pages carry an enforced CSP whose nonce is on every script, and admin pages are never cached', async ({
  page,
}) => {
  await signIn(page)
  const response = await page.goto('/products')
  const headers = response!.headers()
  expect(headers['cache-control']).toBe('no-store')
  expect(headers['x-frame-options']).toBe('DENY')
  const nonce = /'nonce-([^']+)'/.exec(headers['content-security-policy']!)![1]
  const scriptNonces = await page
    .locator('script')
    .evaluateAll((scripts) => scripts.map((s) => (s as HTMLScriptElement).nonce))
  expect(scriptNonces.length).toBeGreaterThan(0)
  expect(new Set(scriptNonces)).toEqual(new Set([nonce]))
})

test('the uploader, its thumbnails and its uploads to the bucket run under the policy without a violation', async ({
  page,
}) => {
  await page.addInitScript(() => {
    ;(window as unknown as { violations: string[] }).violations = []
    document.addEventListener('securitypolicyviolation', (event) =>
      (window as unknown as { violations: string[] }).violations.push(
        `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}:${event.columnNumber} ${event.sample}`,
      ),
    )
  })
  await signIn(page, '/products/new')
  await dropFiles(page, [{ name: 'under-csp.png', type: 'image/png', width: 120, height: 90 }])
  await expect(page.locator('input[name="imageRef"]')).toHaveCount(1)
  await expect(page.locator('.uppy-Dashboard-Item-previewImg')).toBeVisible()
  expect(await page.evaluate(() => (window as unknown as { violations: string[] }).violations)).toEqual([])
})

test('markup injected into a page cannot run script (inline handlers are refused)', async ({ page }) => {
  await signIn(page)
  const refused = page.waitForEvent('console', (message) => /Content Security Policy/.test(message.text()))
  await page.evaluate(() => {
    // What a stored XSS would look like: markup with an inline event handler.
    document.body.insertAdjacentHTML(
      'beforeend',
      '<img alt="" src="data:," onerror="window.injected = true">',
    )
  })
  await refused
  expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined()
})
