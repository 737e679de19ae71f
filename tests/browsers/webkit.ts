import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { remote } from 'webdriverio'
import { freePort, sleep, stopChild } from '../../server/processes'
import type { BrowserPage } from './page'

/**
 * The MiniBrowser that WebKitWebDriver automates: Debian 12 ships it in libwebkit2gtk-4.1-0 (a
 * dependency of webkit2gtk-driver), under the machine's multiarch directory; older releases had 4.0.
 */
const MINIBROWSER =
  process.env.MINIBROWSER_PATH ??
  ['4.1', '4.0']
    .map(
      (api) =>
        `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/webkit2gtk-${api}/MiniBrowser`,
    )
    .find((file) => existsSync(file))

/**
 * WebKitGTK's MiniBrowser through its WebKitWebDriver (package webkit2gtk-driver), started here on a
 * free port on `display`, with webdriverio as the client. Classic WebDriver: it is what WebKitWebDriver
 * implements in full.
 */
export async function openWebKit(display: string): Promise<BrowserPage> {
  if (!MINIBROWSER || !existsSync(MINIBROWSER)) {
    throw new Error(
      'No MiniBrowser found; scripts/setup.sh installs webkit2gtk-driver, or set MINIBROWSER_PATH',
    )
  }
  const port = await freePort()
  const driver = spawn('WebKitWebDriver', [`--port=${port}`], {
    env: { ...process.env, DISPLAY: display },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let driverLog = ''
  driver.stderr!.on('data', (d: Buffer) => (driverLog += d.toString()))
  const spawned = new Promise<never>((_, reject) => {
    driver.once('error', (error) =>
      reject(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error('WebKitWebDriver is not installed; scripts/setup.sh installs webkit2gtk-driver')
          : error,
      ),
    )
    driver.once('exit', (code) => reject(new Error(`WebKitWebDriver exited with ${code}: ${driverLog}`)))
  })
  spawned.catch(() => {})
  try {
    // It prints nothing when it listens: ask /status until it answers.
    await Promise.race([spawned, untilListening(port)])
    const browser = await remote({
      hostname: '127.0.0.1',
      port,
      logLevel: 'error',
      connectionRetryCount: 0,
      capabilities: {
        browserName: 'MiniBrowser',
        'wdio:enforceWebDriverClassic': true,
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
      } as WebdriverIO.Capabilities,
    })
    await browser.setTimeout({ script: 30_000, pageLoad: 30_000 })
    return {
      name: `webkitgtk ${browser.capabilities.browserVersion}`,
      goto: (url) => browser.url(url).then(() => {}),
      url: () => browser.getUrl(),
      type: (selector, text) => browser.$(selector).setValue(text),
      click: (selector) => browser.$(selector).click(),
      setFiles: async (selector, paths) => {
        const input = await browser.$(selector)
        await input.waitForExist()
        // WebDriver's way to choose files: their paths, one a line, typed into the input.
        await browser.elementSendKeys(await input.elementId, paths.join('\n'))
      },
      evaluate: <T>(fn: unknown, ...args: unknown[]) =>
        browser.execute(fn as never, ...(args as never[])) as unknown as Promise<T>,
      screenshot: async (file) => void (await browser.saveScreenshot(file)),
      close: async () => {
        await browser.deleteSession().catch(() => {})
        await stopChild(driver)
      },
    }
  } catch (error) {
    await stopChild(driver)
    throw error
  }
}

async function untilListening(port: number) {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const ready = await fetch(`http://127.0.0.1:${port}/status`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) return
    await sleep(50)
  }
  throw new Error(`WebKitWebDriver did not answer on port ${port}`)
}
