import { Pool } from 'undici'
import { cpuSnapshot, cpuUsed, median, startAnotherApp, startBenchApp, type Row } from './support'

const CONNECTIONS = 50
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const ROUNDS = Number(process.env.BENCH_RUNS ?? 3)

interface LoadResult {
  rps: number
  p50: number
  p99: number
  errors: number
  /** CPU time per answered request, in µs, by process group (app server, PostgreSQL). */
  cpu: Record<string, number>
}

interface LoadRequest {
  method: 'GET' | 'POST'
  path: string
  headers?: Record<string, string>
  body?: string
}

/**
 * 50 connections, each sending the next request as soon as the last answered, for SECONDS seconds.
 * undici's request API rather than fetch: the generator shares the machine with the server and must
 * not be what limits the rate.
 */
async function load(
  origin: string,
  request: LoadRequest,
  classify: (pid: number, comm: string) => string | null,
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 })
  const latencies: number[] = []
  let errors = 0
  const run = async (until: number, record: boolean) => {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < until) {
          const started = performance.now()
          const response = await pool.request(request)
          await response.body.dump()
          if (!record) continue
          if (response.statusCode < 400) latencies.push(performance.now() - started)
          else errors += 1
        }
      }),
    )
  }
  await run(performance.now() + 1000, false) // warm-up
  const before = await cpuSnapshot()
  const started = performance.now()
  await run(started + SECONDS * 1000, true)
  const elapsed = (performance.now() - started) / 1000
  const used = cpuUsed(before, await cpuSnapshot(), classify)
  await pool.close()
  latencies.sort((a, b) => a - b)
  return {
    rps: latencies.length / elapsed,
    p50: median(latencies),
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    errors,
    cpu: Object.fromEntries(
      Object.entries(used).map(([group, ms]) => [group, (ms * 1000) / (latencies.length + errors)]),
    ),
  }
}

/** The signing route against /ping on the same production server, at 50 concurrent connections. */
export async function benchSigning(): Promise<Row[]> {
  const ctx = await startBenchApp({})
  try {
    const { url } = ctx.app
    const appPid = ctx.app.process.pid
    const classify = (pid: number, comm: string) =>
      pid === appPid ? 'app' : comm.startsWith('postgres') ? 'postgres' : null
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

    const requests: Record<'ping' | 'part' | 'put', LoadRequest> = {
      ping: { method: 'GET', path: '/ping' },
      part: {
        method: 'POST',
        path: '/uploads/sign',
        headers,
        body: JSON.stringify({
          operation: 'uploadPart',
          key: created.key,
          ref: created.ref,
          uploadId: 'bench',
          partNumber: 1,
        }),
      },
      put: {
        method: 'POST',
        path: '/uploads/sign',
        headers,
        body: JSON.stringify({
          operation: 'putObject',
          fileName: 'a.png',
          contentType: 'image/png',
          size: 2_000_000,
        }),
      },
    }
    // The same server with the per-admin rate limiter on (two upserts in PostgreSQL per new upload),
    // at rates it never reaches here; the open-uploads cap stays off, since its count is bounded by the
    // cap (500 by default) and here the admin's open uploads grow by thousands a second.
    const limited = await startAnotherApp(ctx, {
      NEW_UPLOADS_PER_MINUTE: '1000000000',
      NEW_UPLOADS_PER_MINUTE_PER_ADDRESS: '1000000000',
    })
    const limitedPid = limited.app.process.pid
    const classifyLimited = (pid: number, comm: string) =>
      pid === limitedPid ? 'app' : comm.startsWith('postgres') ? 'postgres' : null
    const limitedPut: LoadRequest = {
      ...requests.put,
      headers: { ...headers, Cookie: limited.cookie, Origin: limited.app.url },
    }
    // Interleaved rounds, medians: the machine's speed drifts, and neither side should get the quiet minute.
    const results: Record<keyof typeof requests | 'limited', LoadResult[]> = {
      ping: [],
      part: [],
      put: [],
      limited: [],
    }
    try {
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of ['ping', 'part', 'put'] as const)
          results[name].push(await load(url, requests[name], classify))
        results.limited.push(await load(limited.app.url, limitedPut, classifyLimited))
      }
    } finally {
      await limited.app.stop()
    }
    const summary = (all: LoadResult[]): LoadResult => ({
      rps: median(all.map((r) => r.rps)),
      p50: median(all.map((r) => r.p50)),
      p99: median(all.map((r) => r.p99)),
      errors: all.reduce((n, r) => n + r.errors, 0),
      cpu: Object.fromEntries(
        ['app', 'postgres'].map((group) => [group, median(all.map((r) => r.cpu[group] ?? 0))]),
      ),
    })
    const ping = summary(results.ping)
    const part = summary(results.part)
    const put = summary(results.put)
    const limitedSummary = summary(results.limited)
    const row = (name: string, r: LoadResult): Row => ({
      benchmark: name,
      measured: `${r.rps.toFixed(0)} req/s, p99 ${r.p99.toFixed(1)} ms${r.errors ? `, ${r.errors} errors` : ''}`,
      baseline: `${ping.rps.toFixed(0)} req/s, p99 ${ping.p99.toFixed(1)} ms`,
      result: `${(r.rps / ping.rps).toFixed(2)}x`,
      goal: '>= 0.7x',
      verdict: r.rps / ping.rps >= 0.7 && r.errors === 0 ? 'PASS' : 'MISS',
    })
    const cpu = (r: LoadResult) => `app ${r.cpu.app!.toFixed(0)} + PostgreSQL ${r.cpu.postgres!.toFixed(0)}`
    return [
      row('sign route, uploadPart, 50 conns vs /ping', part),
      row('sign route, putObject (new key), 50 conns vs /ping', put),
      {
        benchmark: '  putObject with the per-admin rate limiter on, against it off',
        measured: `${limitedSummary.rps.toFixed(0)} req/s, p99 ${limitedSummary.p99.toFixed(1)} ms${limitedSummary.errors ? `, ${limitedSummary.errors} errors` : ''}`,
        baseline: `${put.rps.toFixed(0)} req/s off`,
        result: `${(limitedSummary.rps / put.rps).toFixed(2)}x`,
        goal: '-',
        verdict: '-',
      },
      {
        // The server is one thread: its CPU time per request bounds its rate. PostgreSQL runs beside it.
        benchmark: '  (diagnostic) CPU µs per request: uploadPart / putObject',
        measured: `${cpu(part)} / ${cpu(put)}`,
        baseline: `/ping: ${cpu(ping)}`,
        result: '-',
        goal: '-',
        verdict: '-',
      },
    ]
  } finally {
    await ctx.app.stop()
    await ctx.services.stop()
  }
}
