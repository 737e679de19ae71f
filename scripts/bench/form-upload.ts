import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rm, stat } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { makePng } from '../../tests/support/images'
import type { AppServer } from '../../tests/support/app-server'
import {
  emptyBucketAndSettle,
  median,
  MiB,
  sampleRss,
  startAnotherApp,
  startBenchApp,
  type Row,
} from './support'
import { s3ClientFor } from '../../tests/support/services'

const FILE_BYTES = Number(process.env.BENCH_FORM_MIB ?? 512) * MiB
// The job worker runs apart: in the server, making each saved image's variants (a 12 MP or 24 MP decode)
// landed on the next upload's memory and time. The images benchmark measures processing.
const BENCH_ENV = { MAX_IMAGE_BYTES: String(1024 * MiB), MAX_IMAGES_PER_PRODUCT: '10', RUN_WORKER: 'false' }
const RUNS = Number(process.env.BENCH_RUNS ?? 7)
/** Fresh servers per format for the first-upload memory: it varies from server to server. */
const FRESH = Number(process.env.BENCH_FRESH ?? 3)

/** The images the form benchmark sends: the memory goal holds whatever the format claims. */
const FORMATS = [
  { label: '8-bit RGB PNG', width: 4000, height: 3000, bitDepth: 8, colourType: 2 },
  { label: '16-bit RGBA PNG', width: 6000, height: 4000, bitDepth: 16, colourType: 6 },
] as const
type Format = (typeof FORMATS)[number]

/** A real PNG header followed by an ancillary chunk of random bytes, written in 8 MiB slices. */
async function writeBigPng(file: string, bytes: number, format: Format = FORMATS[0]) {
  const png = makePng(format.width, format.height, {
    bitDepth: format.bitDepth,
    colourType: format.colourType,
  })
  const ihdrEnd = 8 + 25
  const handle = await open(file, 'w')
  await handle.write(png.subarray(0, ihdrEnd))
  const padLength = bytes - png.length - 12
  const header = Buffer.alloc(8)
  header.writeUInt32BE(padLength)
  header.write('prVt', 4, 'ascii')
  await handle.write(header)
  const slice = randomBytes(8 * MiB)
  for (let left = padLength; left > 0; left -= slice.length)
    await handle.write(slice.subarray(0, Math.min(left, slice.length)))
  await handle.write(Buffer.alloc(4)) // CRC (decoders skip unknown ancillary chunks; sniffing reads the header)
  await handle.write(png.subarray(ihdrEnd))
  await handle.close()
}

/** POSTs the product form as a browser would with JavaScript off, streaming the file from disk. */
function postForm(
  url: string,
  cookie: string,
  file: string,
  size: number,
): Promise<{ status: number; ms: number }> {
  const boundary = `----bench${randomBytes(8).toString('hex')}`
  const field = (name: string, value: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`
  const head = Buffer.from(
    field('name', `Bench ${Date.now()}`) +
      field('price', '1') +
      `--${boundary}\r\nContent-Disposition: form-data; name="images"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/products/new`, {
      method: 'POST',
      headers: {
        Cookie: cookie,
        Origin: url,
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': head.length + size + tail.length,
      },
    })
    req.on('response', (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += text.length < 200_000 ? d.toString() : ''))
      res.on('end', () => {
        // A form that came back instead of redirecting says why in its error list.
        if (res.statusCode !== 302)
          console.error(/class="errors"[\s\S]{0,600}/.exec(text)?.[0] ?? text.slice(0, 600))
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started })
      })
    })
    req.on('error', reject)
    req.write(head)
    const stream = createReadStream(file, { highWaterMark: 1 * MiB })
    stream.on('end', () => req.end(tail))
    stream.pipe(req, { end: false })
  })
}

function putPresigned(url: string, file: string, size: number): Promise<{ status: number; ms: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'PUT',
      headers: { 'Content-Length': size, 'Content-Type': 'image/png' },
    })
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }))
    })
    req.on('error', reject)
    createReadStream(file, { highWaterMark: 1 * MiB }).pipe(req)
  })
}

/** 512 MiB through the no-JavaScript form: server memory growth and time against a direct presigned PUT. */
export async function benchFormUpload(): Promise<Row[]> {
  const files = FORMATS.map((format, i) => path.join(os.tmpdir(), `bench-form-${process.pid}-${i}.png`))
  for (const [i, format] of FORMATS.entries()) await writeBigPng(files[i]!, FILE_BYTES, format)
  const file = files[0]!
  const size = (await stat(file)).size
  const small = path.join(os.tmpdir(), `bench-small-${process.pid}.png`)
  await writeBigPng(small, 9 * MiB)
  const ctx = await startBenchApp(BENCH_ENV)
  const { env } = ctx.services
  const s3 = s3ClientFor(env)
  try {
    // Warm up both paths once so neither pays for first-request compilation or connection set-up.
    await postForm(ctx.app.url, ctx.cookie, small, (await stat(small)).size)
    await postForm(ctx.app.url, ctx.cookie, file, size)
    await emptyBucketAndSettle(s3, env.S3_BUCKET!)

    const formMs: number[] = []
    const directMs: number[] = []
    // Growth of the server's resident memory during one upload: the first large one on a fresh server
    // (its allocator keeps what it took), and the largest of those after it (the steady state).
    const firstGrowths = FORMATS.map(() => [] as number[])
    const laterGrowth = FORMATS.map(() => 0)
    const upload = async (app: AppServer, cookie: string, format: number) => {
      const rss = sampleRss(app.process.pid!)
      const baseline = await rss.current()
      const form = await postForm(app.url, cookie, files[format]!, size)
      const peak = await rss.stop()
      if (form.status !== 302) throw new Error(`the form answered ${form.status}, expected a redirect`)
      return { ms: form.ms, growth: peak - baseline }
    }
    for (let round = 0; round < FRESH; round++) {
      for (const [format] of FORMATS.entries()) {
        const fresh = await startAnotherApp(ctx, BENCH_ENV)
        try {
          await postForm(fresh.app.url, fresh.cookie, small, (await stat(small)).size)
          firstGrowths[format]!.push((await upload(fresh.app, fresh.cookie, format)).growth)
        } finally {
          await fresh.app.stop()
        }
        await emptyBucketAndSettle(s3, env.S3_BUCKET!)
      }
    }
    const viaForm = async (format = 0) => {
      const { ms, growth } = await upload(ctx.app, ctx.cookie, format)
      if (format === 0) formMs.push(ms)
      laterGrowth[format] = Math.max(laterGrowth[format]!, growth)
    }
    const viaPresignedPut = async (run: number) => {
      const url = await getSignedUrl(
        s3,
        new PutObjectCommand({
          Bucket: env.S3_BUCKET,
          Key: `bench/direct-${run}.png`,
          ContentType: 'image/png',
        }),
        { expiresIn: 600, signableHeaders: new Set(['content-type']) },
      )
      const put = await putPresigned(url, file, size)
      if (put.status !== 200) throw new Error(`the presigned PUT answered ${put.status}`)
      directMs.push(put.ms)
    }
    for (let run = 0; run < RUNS; run++) {
      // Alternate the order so neither path always runs on a warmer (or fuller) store.
      if (run % 2 === 0) {
        await viaForm()
        await viaPresignedPut(run)
      } else {
        await viaPresignedPut(run)
        await viaForm()
      }
      await emptyBucketAndSettle(s3, env.S3_BUCKET!)
      for (let format = 1; format < FORMATS.length; format++) {
        await viaForm(format)
        await emptyBucketAndSettle(s3, env.S3_BUCKET!)
      }
    }
    const form = median(formMs)
    const direct = median(directMs)
    const ratio = form / direct
    const mibps = (ms: number) => `${(size / MiB / (ms / 1000)).toFixed(0)} MiB/s`
    return [
      ...FORMATS.flatMap((format, i) => {
        const firsts = firstGrowths[i]!
        const first = Math.max(...firsts)
        const later = laterGrowth[i]!
        const mib = (bytes: number) => (bytes / MiB).toFixed(1)
        return (
          [
            [
              `first on a fresh server, max of ${firsts.length}`,
              first,
              `${mib(first)} MiB (each ${firsts.map(mib).join(', ')})`,
            ],
            [`steady state, max of ${RUNS}`, later, `${mib(later)} MiB`],
          ] as const
        ).map(([when, growth, measured]) => ({
          benchmark: `no-JS form, ${FILE_BYTES / MiB} MiB ${format.label}: server RSS growth, ${when}`,
          measured,
          baseline: '-',
          result: `${mib(growth)} MiB`,
          goal: '< 64 MiB',
          verdict: growth < 64 * MiB ? 'PASS' : 'MISS',
        }))
      }),
      {
        benchmark: `no-JS form, ${FILE_BYTES / MiB} MiB: time vs presigned PUT`,
        measured: `${(form / 1000).toFixed(2)} s (${mibps(form)})`,
        baseline: `${(direct / 1000).toFixed(2)} s (${mibps(direct)})`,
        result: `${ratio.toFixed(2)}x`,
        goal: '<= 1.5x',
        verdict: ratio <= 1.5 ? 'PASS' : 'MISS',
      },
    ]
  } finally {
    s3.destroy()
    await ctx.app.stop()
    await ctx.services.stop()
    for (const f of [...files, small]) await rm(f, { force: true })
  }
}
