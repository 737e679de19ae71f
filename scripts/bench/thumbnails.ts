import { readFile } from 'node:fs/promises'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { chromium } from '@playwright/test'
import { makePhoto } from '../../tests/support/photos'
import { bundle, median, MiB, realPng, type Row } from './support'

const RUNS = 9
const WIDTH = 240

/**
 * What one Dashboard thumbnail costs to decode in Chromium: thumbnailBitmap (a JPEG decoded scaled down
 * by WebCodecs' ImageDecoder) against createImageBitmap's whole decode and resize, which it replaced,
 * for a 12 MP phone photo and for a 2 MiB PNG (which both decode whole). Each way goes first in turn.
 */
export async function benchThumbnails(): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-thumbnails-'))
  const files = {
    'camera JPEG, 4000 x 3000 (12 MP)': { type: 'image/jpeg', bytes: await makePhoto(4000, 3000) },
    'noise PNG, 835 x 835 (2 MiB)': {
      type: 'image/png',
      bytes: await readFile(await realPng(path.join(dir, 'small.png'), 2 * MiB)),
    },
  }
  const server = createServer((req, res) => {
    const file = Object.values(files)[Number(req.url?.slice(1))]
    if (!file) return void res.end('<!doctype html><title>thumbnails</title>')
    res.setHeader('Content-Type', file.type)
    res.end(file.bytes)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' })
  try {
    const page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`)
    await page.addScriptTag({ content: await bundle('thumbnail/entry.ts') })
    const rows: Row[] = []
    for (const [i, [label, file]] of Object.entries(files).entries()) {
      const times = await page.evaluate(
        async ({ i, runs, width }) => {
          const blob = await (await fetch(`/${i}`)).blob()
          const scaled: number[] = []
          const whole: number[] = []
          const sizes = new Set<string>()
          for (let run = 0; run < runs; run++) {
            for (const way of run % 2 ? ['whole', 'scaled'] : ['scaled', 'whole']) {
              const started = performance.now()
              const bitmap =
                way === 'scaled'
                  ? await window.thumbnailBitmap(blob, width)
                  : await createImageBitmap(blob, { resizeWidth: width, resizeQuality: 'medium' })
              ;(way === 'scaled' ? scaled : whole).push(performance.now() - started)
              sizes.add(`${bitmap.width}x${bitmap.height}`)
              bitmap.close()
            }
          }
          return { scaled, whole, sizes: [...sizes] }
        },
        { i, runs: RUNS, width: WIDTH },
      )
      // Both ways must make the same thumbnail, or the comparison means nothing.
      if (times.sizes.length !== 1)
        throw new Error(`the thumbnails differ in size: ${times.sizes.join(', ')}`)
      const scaled = median(times.scaled)
      const whole = median(times.whole)
      rows.push({
        benchmark: `Dashboard thumbnail (${WIDTH} px) of a ${label}, ${(file.bytes.length / MiB).toFixed(1)} MiB`,
        measured: `${scaled.toFixed(1)} ms thumbnailBitmap`,
        baseline: `${whole.toFixed(1)} ms createImageBitmap`,
        result: `${(scaled / whole).toFixed(2)}x`,
        goal: '-',
        verdict: '-',
      })
    }
    return rows
  } finally {
    await browser.close()
    server.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
