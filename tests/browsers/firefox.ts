import puppeteer, { type Browser, type ElementHandle } from 'puppeteer-core'
import type { BrowserPage } from './page'

const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr'

const selectorFor = (selector: string) =>
  selector.startsWith('/') || selector.startsWith('(') ? `::-p-xpath(${selector})` : selector

/** Firefox ESR, headless, through WebDriver BiDi (Firefox's own Remote Agent: no geckodriver needed). */
export async function openFirefox(): Promise<BrowserPage> {
  let browser: Browser
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      // Nothing is reachable but loopback: no update checks, telemetry or captive-portal probes.
      extraPrefsFirefox: {
        'app.update.enabled': false,
        'network.captive-portal-service.enabled': false,
        'datareporting.policy.dataSubmissionEnabled': false,
      },
    })
  } catch (error) {
    throw new Error(`Firefox (${FIREFOX}) did not start; scripts/setup.sh installs firefox-esr`, {
      cause: error,
    })
  }
  const page = await browser.newPage()
  page.setDefaultTimeout(30_000)
  return {
    name: `firefox ${(await browser.version()).replace(/^firefox\//, '')}`,
    goto: async (url) => void (await page.goto(url)),
    url: async () => page.url(),
    type: (selector, text) => page.locator(selectorFor(selector)).fill(text),
    click: (selector) => page.locator(selectorFor(selector)).click(),
    setFiles: async (selector, paths) => {
      const input = await page.waitForSelector(selectorFor(selector))
      await (input as ElementHandle<HTMLInputElement>).uploadFile(...paths)
    },
    evaluate: (fn, ...args) => page.evaluate(fn as never, ...(args as unknown as never[])),
    screenshot: async (file) => void (await page.screenshot({ path: file as `${string}.png` })),
    close: () => browser.close(),
  }
}
