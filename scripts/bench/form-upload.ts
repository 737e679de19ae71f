import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rm, stat } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { makePng } from '../../tests/support/images'
import { emptyBucket, median, MiB, sampleRss, startBenchApp, type Row } from './support'
import { s3ClientFor } from '../../tests/support/services'

const FILE_BYTES = 512 * MiB
const RUNS = Number(process.env.BENCH_RUNS ?? 7)

/** A real PNG header followed by an ancillary chunk of random bytes, written in 8 MiB slices. */
async function writeBigPng(file: string, bytes: number) {
  const png = makePng(4000, 3000)
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
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }))
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
  const file = path.join(os.tmpdir(), `bench-form-${process.pid}.png`)
  await writeBigPng(file, FILE_BYTES)
  const size = (await stat(file)).size
  const ctx = await startBenchApp({ MAX_IMAGE_BYTES: String(1024 * MiB), MAX_IMAGES_PER_PRODUCT: '10' })
  const { env } = ctx.services
  const s3 = s3ClientFor(env)
  try {
    // Warm up both paths once so neither pays for first-request compilation or connection set-up.
    const small = path.join(os.tmpdir(), `bench-small-${process.pid}.png`)
    await writeBigPng(small, 9 * MiB)
    await postForm(ctx.app.url, ctx.cookie, small, (await stat(small)).size)
    await rm(small)

    const formMs: number[] = []
    const directMs: number[] = []
    let rssGrowth = 0
    const viaForm = async () => {
      const rss = sampleRss(ctx.app.process.pid!)
      const baseline = await rss.current()
      const form = await postForm(ctx.app.url, ctx.cookie, file, size)
      const peak = await rss.stop()
      if (form.status !== 302) throw new Error(`the form answered ${form.status}, expected a redirect`)
      formMs.push(form.ms)
      rssGrowth = Math.max(rssGrowth, peak - baseline)
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
      await emptyBucket(s3, env.S3_BUCKET!)
    }
    const form = median(formMs)
    const direct = median(directMs)
    const ratio = form / direct
    const mibps = (ms: number) => `${(size / MiB / (ms / 1000)).toFixed(0)} MiB/s`
    return [
      {
        benchmark: 'no-JS form, 512 MiB: server peak RSS growth',
        measured: `${(rssGrowth / MiB).toFixed(1)} MiB`,
        baseline: '-',
        result: `${(rssGrowth / MiB).toFixed(1)} MiB`,
        goal: '< 64 MiB',
        verdict: rssGrowth < 64 * MiB ? 'PASS' : 'MISS',
      },
      {
        benchmark: 'no-JS form, 512 MiB: time vs presigned PUT',
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
    await rm(file, { force: true })
  }
}
