/**
 * What a scenario does in a browser, in the same words for every engine: Firefox through WebDriver BiDi
 * (puppeteer-core) and WebKitGTK through classic WebDriver (webdriverio). No single library drives both
 * here: webdriverio reaches Firefox only through geckodriver, which Debian does not ship, and puppeteer
 * speaks no classic WebDriver. Selectors are CSS, or XPath when they start with `/` or `(`.
 */
export interface BrowserPage {
  /** The engine and version, e.g. "firefox 153.8.0". */
  readonly name: string
  goto(url: string): Promise<void>
  /** The current address. */
  url(): Promise<string>
  /** Types `text` into the field, as a person would (key events). */
  type(selector: string, text: string): Promise<void>
  click(selector: string): Promise<void>
  /** Sets the files of an `<input type=file>` (hidden ones too), as picking them in the dialog does. */
  setFiles(selector: string, paths: string[]): Promise<void>
  evaluate<T, A extends unknown[]>(fn: (...args: A) => T | Promise<T>, ...args: A): Promise<T>
  /** Saves what the page shows as a PNG, for a failed test's report. */
  screenshot(file: string): Promise<void>
  close(): Promise<void>
}

/** The field a `<label>` with exactly this text names. */
export const field = (label: string) => `//*[@id=//label[normalize-space()=${xpathString(label)}]/@for]`
/** The button with exactly this text. */
export const button = (name: string) => `//button[normalize-space()=${xpathString(name)}]`

const xpathString = (text: string) => (text.includes("'") ? `"${text}"` : `'${text}'`)

/** Thrown by a waitFor check that sees the wait cannot end well (an error on the page): ends it at once. */
export class WaitFailed extends Error {}

/**
 * Asks `check` until it returns something other than undefined, false or null, and returns that; the
 * page changes by itself (uploads, the product page's refresh), so it is asked, as Playwright's
 * expect.poll does. Fails with `what` and the last answer, or at once with a WaitFailed that check throws.
 */
export async function waitFor<T>(
  what: string | (() => string),
  check: () => Promise<T | undefined | false | null>,
  { timeoutMs = 30_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      last = await check()
      if (last !== undefined && last !== false && last !== null) return last as T
    } catch (error) {
      if (error instanceof WaitFailed) throw error
      // A page in the middle of a navigation cannot answer; ask again.
      last = error
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last)
      const described = typeof what === 'function' ? what() : what
      throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${described} (last: ${detail})`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
