import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { makeVariants, UnprocessableImageError } from '../../app/images/process.server'
import { sniffUpload } from '../../app/uploads/sniff.server'
import { dimensionsProblem, DEFAULT_MAX_IMAGE_PIXELS } from '../../app/uploads/limits'
import { makePhoto } from '../../tests/support/photos'
import { median, MiB, type Row } from './support'

const CORPUS = 'tests/fixtures/corpus'
/** A real iPhone 11 Pro photo: 3024 x 4032 (12.2 MP) HEVC tiles in a grid, Display P3. */
const IPHONE_HEIC = `${CORPUS}/heic/iphone-11-pro-exif-at-eof.heic`
const RUNS = Number(process.env.BENCH_HEIC_RUNS ?? 5)

/**
 * HEIC against JPEG: a 12 MP iPhone HEIC and a 12 MP camera JPEG, each made into its variants in a
 * process of its own (time per photo, CPU per photo across every thread, peak resident memory growth),
 * and the real-world corpus's outcomes against what its manifest expects.
 */
export async function benchHeic(): Promise<Row[]> {
  const jpegFile = path.join((await import('node:os')).tmpdir(), 'bench-12mp.jpg')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(jpegFile, await makePhoto(4000, 3000))
  const heic = await measure(IPHONE_HEIC)
  const jpeg = await measure(jpegFile)
  const row = (label: string, m: Measured, bytes: number): Row => ({
    benchmark: `processing one 12 MP ${label} (4 widths, WebP), a process of its own`,
    measured: `${(median(m.wallMs) / 1000).toFixed(2)} s wall, ${(median(m.cpuMs) / 1000).toFixed(2)} CPU s; peak RSS +${((m.rssPeak - m.rssBefore) / MiB).toFixed(0)} MiB`,
    baseline: `${(bytes / 1e6).toFixed(1)} MB in, ${RUNS} runs`,
    result: `${(median(m.cpuMs) / 1000).toFixed(2)} s per photo per core`,
    goal: '-',
    verdict: '-',
  })
  return [
    row('iPhone HEIC (libheif in WebAssembly, then libvips)', heic, readFileSync(IPHONE_HEIC).length),
    {
      ...row('camera JPEG (libvips)', jpeg, readFileSync(jpegFile).length),
      benchmark: '  beside it: one 12 MP camera JPEG (libvips), a process of its own',
    },
    await corpusRow(),
  ]
}

interface Measured {
  wallMs: number[]
  cpuMs: number[]
  rssBefore: number
  rssPeak: number
}

function measure(file: string) {
  return new Promise<Measured>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'scripts/bench/heic/process-one.ts', file, String(RUNS)],
      { env: { ...process.env, MALLOC_ARENA_MAX: '2' }, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Measured)
        : reject(new Error(`exit ${code}`)),
    )
  })
}

/** Every corpus file through the upload check's sniffing and the worker's processing, in this process. */
async function corpusRow(): Promise<Row> {
  const manifest = JSON.parse(readFileSync(`${CORPUS}/manifest.json`, 'utf8')) as {
    file: string
    expect: 'shown' | 'refused' | 'failed'
  }[]
  const outcomes = { shown: 0, refused: 0, failed: 0 }
  let asExpected = 0
  const started = performance.now()
  for (const row of manifest) {
    const bytes = readFileSync(path.join(CORPUS, row.file))
    const sniff = await sniffUpload(bytes)
    let outcome: keyof typeof outcomes
    if (!sniff.ok || dimensionsProblem(row.file, sniff.image, DEFAULT_MAX_IMAGE_PIXELS)) outcome = 'refused'
    else {
      outcome = await makeVariants(bytes, { maxPixels: DEFAULT_MAX_IMAGE_PIXELS }).then(
        () => 'shown' as const,
        (error: unknown) => {
          if (error instanceof UnprocessableImageError) return 'failed' as const
          throw error
        },
      )
    }
    outcomes[outcome]++
    if (outcome === row.expect) asExpected++
  }
  return {
    benchmark: `real-world corpus (tests/fixtures/corpus): ${manifest.length} files, upload check then processing`,
    measured: `${outcomes.shown} shown, ${outcomes.refused} refused, ${outcomes.failed} failed, in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    baseline: 'the manifest',
    result: `${asExpected} of ${manifest.length} as expected`,
    goal: `${manifest.length} of ${manifest.length}`,
    verdict: asExpected === manifest.length ? 'PASS' : 'MISS',
  }
}
