import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { freePort } from '../../server/processes'
import { startTestServices } from '../../tests/support/services'
import { STREAM_PART_BYTES, streamToS3 } from '../../app/uploads/stream-to-s3.server'
import { createS3Client } from '../../app/utils/storage.server'
import { median, MiB, sampleRss, type Row } from './support'

const BYTES = Number(process.env.BENCH_STREAM_MIB ?? 256) * MiB
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const CHUNK = 64 * 1024

/** A body arriving as a socket delivers it: 64 KiB chunks, each a fresh buffer. */
async function* body(pattern: Buffer) {
  for (let sent = 0; sent < BYTES; sent += CHUNK) {
    yield Buffer.from(pattern.subarray(0, Math.min(CHUNK, BYTES - sent)))
  }
}

/**
 * The no-JavaScript path's server-side streaming: the app's streamToS3 against @aws-sdk/lib-storage's
 * Upload with the same part size and the same three parts in flight, on the same client and local
 * Ceph, alternating; time and this process's resident memory growth, medians of RUNS.
 */
export async function benchStreaming(): Promise<Row[]> {
  const services = await startTestServices(await freePort())
  const env = services.env
  const s3 = createS3Client({
    endpoint: env.S3_ENDPOINT!,
    region: env.S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY,
  })
  const bucket = env.S3_BUCKET!
  const pattern = randomBytes(CHUNK)
  const results = {
    ours: { ms: [] as number[], rss: [] as number[] },
    lib: { ms: [] as number[], rss: [] as number[] },
  }
  const measure = async (which: 'ours' | 'lib', run: number) => {
    const key = `bench/stream-${which}-${run}`
    global.gc?.()
    const rss = sampleRss(process.pid)
    const before = await rss.current()
    const started = performance.now()
    if (which === 'ours') {
      await streamToS3({
        s3,
        bucket,
        maxBytes: BYTES,
        source: body(pattern)[Symbol.asyncIterator](),
        inspect: () => ({ key, contentType: 'application/octet-stream' }),
      })
    } else {
      await new Upload({
        client: s3,
        params: {
          Bucket: bucket,
          Key: key,
          Body: Readable.from(body(pattern)),
          ContentType: 'application/octet-stream',
        },
        partSize: STREAM_PART_BYTES,
        queueSize: 3,
      }).done()
    }
    results[which].ms.push(performance.now() - started)
    results[which].rss.push((await rss.stop()) - before)
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
  }
  try {
    for (let run = 0; run < RUNS + 1; run++) {
      const order: ('ours' | 'lib')[] = run % 2 ? ['lib', 'ours'] : ['ours', 'lib']
      for (const which of order) await measure(which, run)
      if (run > 0) continue
      for (const r of Object.values(results)) {
        // The first run of each warms up.
        r.ms.length = 0
        r.rss.length = 0
      }
    }
  } finally {
    await services.stop()
  }
  const mibps = (ms: number) => (BYTES / MiB / (ms / 1000)).toFixed(0)
  const ours = { ms: median(results.ours.ms), rss: median(results.ours.rss) }
  const lib = { ms: median(results.lib.ms), rss: median(results.lib.rss) }
  // A growth under 1 MiB is within what the process does anyway: no ratio of two such numbers means much.
  const memory =
    Math.max(ours.rss, lib.rss) < MiB
      ? 'both grew under 1 MiB'
      : `${(ours.rss / Math.max(lib.rss, MiB)).toFixed(2)}x memory`
  return [
    {
      benchmark: `stream ${BYTES / MiB} MiB to S3: app streamToS3 vs lib-storage Upload`,
      measured: `${(ours.ms / 1000).toFixed(2)} s (${mibps(ours.ms)} MiB/s), RSS +${(ours.rss / MiB).toFixed(0)} MiB`,
      baseline: `Upload ${(lib.ms / 1000).toFixed(2)} s (${mibps(lib.ms)} MiB/s), RSS +${(lib.rss / MiB).toFixed(0)} MiB`,
      result: `${(ours.ms / lib.ms).toFixed(2)}x time, ${memory}`,
      goal: '-',
      verdict: '-',
    },
  ]
}
