import { Agent } from 'undici'
import { median, startBenchApp, type Row } from './support'

const CONNECTIONS = 50
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)

interface LoadResult {
  rps: number
  p50: number
  p99: number
  errors: number
}

/** 50 connections, each sending the next request as soon as the last answered, for SECONDS seconds. */
async function load(url: string, init: () => RequestInit): Promise<LoadResult> {
  const dispatcher = new Agent({ connections: CONNECTIONS, pipelining: 1 })
  const latencies: number[] = []
  let errors = 0
  const run = async (until: number, record: boolean) => {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < until) {
          const started = performance.now()
          const response = await fetch(url, { ...init(), dispatcher } as RequestInit)
          await response.arrayBuffer()
          if (!record) continue
          if (response.ok) latencies.push(performance.now() - started)
          else errors += 1
        }
      }),
    )
  }
  await run(performance.now() + 1000, false) // warm-up
  const started = performance.now()
  await run(started + SECONDS * 1000, true)
  const elapsed = (performance.now() - started) / 1000
  await dispatcher.close()
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / elapsed,
    p50: median(latencies),
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    errors,
  }
}

/** The signing route against /ping on the same production server, at 50 concurrent connections. */
export async function benchSigning(): Promise<Row[]> {
  const ctx = await startBenchApp({})
  try {
    const { url } = ctx.app
    const headers = { Cookie: ctx.cookie, Origin: url, 'Content-Type': 'application/json' }
    const sign = (body: unknown) =>
      fetch(`${url}/uploads/sign`, { method: 'POST', headers, body: JSON.stringify(body) }).then((r) =>
        r.json(),
      )
    const created = (await sign({
      operation: 'createMultipartUpload',
      fileName: 'b.png',
      contentType: 'image/png',
      size: 20 * 1024 * 1024,
    })) as { key: string; ref: string }

    const ping = await load(`${url}/ping`, () => ({}))
    const part = await load(`${url}/uploads/sign`, () => ({
      method: 'POST',
      headers,
      body: JSON.stringify({
        operation: 'uploadPart',
        key: created.key,
        ref: created.ref,
        uploadId: 'bench',
        partNumber: 1,
      }),
    }))
    const put = await load(`${url}/uploads/sign`, () => ({
      method: 'POST',
      headers,
      body: JSON.stringify({
        operation: 'putObject',
        fileName: 'a.png',
        contentType: 'image/png',
        size: 2_000_000,
      }),
    }))
    const row = (name: string, r: LoadResult): Row => ({
      benchmark: name,
      measured: `${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(1)} ms${r.errors ? `, ${r.errors} errors` : ''}`,
      baseline: `${ping.rps.toFixed(0)} req/s, p99 ${ping.p99.toFixed(1)} ms`,
      result: `${(r.rps / ping.rps).toFixed(2)}x`,
      goal: '>= 0.7x',
      verdict: r.rps / ping.rps >= 0.7 && r.errors === 0 ? 'PASS' : 'MISS',
    })
    return [
      row('sign route, uploadPart, 50 conns vs /ping', part),
      row('sign route, putObject (new key), 50 conns vs /ping', put),
    ]
  } finally {
    await ctx.app.stop()
    await ctx.services.stop()
  }
}
