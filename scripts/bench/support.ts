import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import sharp from 'sharp'
import { build } from 'vite'
import { startAppServer, type AppServer } from '../../tests/support/app-server'
import { startTestServices, TEST_ADMIN, type TestServices } from '../../tests/support/services'
import { freePort } from '../../server/processes'

export interface BenchContext {
  services: TestServices
  app: AppServer
  cookie: string
}

/** The benchmarks sign far more uploads a minute than any admin: the per-admin limits are off unless a row measures them. */
export const NO_UPLOAD_LIMITS = {
  NEW_UPLOADS_PER_MINUTE: '0',
  NEW_UPLOADS_PER_MINUTE_PER_ADDRESS: '0',
  MAX_OPEN_UPLOADS_PER_ADMIN: '0',
}

/** Fresh local services and the production server, as the e2e tests use them, with extra settings. */
export async function startBenchApp(extraEnv: Record<string, string>): Promise<BenchContext> {
  if (!existsSync('build/server/index.js')) {
    console.log('building the app first (npm run build)…')
    const result = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' })
    if (result.status !== 0) throw new Error('npm run build failed')
  }
  const services = await startTestServices(await freePort())
  const app = await startAppServer({ ...services.env, ...NO_UPLOAD_LIMITS, ...extraEnv }).catch(
    async (error: unknown) => {
      await services.stop()
      throw error
    },
  )
  return { services, app, cookie: await signInTo(app) }
}

/** Another app server on the same services, fresh (for first-request costs), with its session cookie. */
export async function startAnotherApp(ctx: BenchContext, extraEnv: Record<string, string>) {
  const port = await freePort()
  const app = await startAppServer({
    ...ctx.services.env,
    ...NO_UPLOAD_LIMITS,
    ...extraEnv,
    PORT: String(port),
    APP_ORIGIN: `http://localhost:${port}`,
  })
  return { app, cookie: await signInTo(app) }
}

async function signInTo(app: AppServer) {
  const login = await fetch(`${app.url}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: app.url },
    body: new URLSearchParams({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }),
    redirect: 'manual',
  })
  const cookie = login.headers.get('set-cookie')?.split(';')[0]
  if (!cookie) throw new Error(`sign-in failed with ${login.status}`)
  return cookie
}

/** Samples a process's resident memory until stopped; reports the peak. */
export function sampleRss(pid: number, everyMs = 20) {
  let peak = 0
  let running = true
  const read = async () => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    peak = Math.max(peak, kb * 1024)
    return kb * 1024
  }
  const loop = (async () => {
    while (running) {
      await read()
      await new Promise((r) => setTimeout(r, everyMs))
    }
  })()
  return {
    current: read,
    async stop() {
      running = false
      await loop
      return peak
    },
  }
}

export function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const MiB = 1024 * 1024

export interface Row {
  benchmark: string
  measured: string
  baseline: string
  result: string
  goal: string
  verdict: string
}

export function printTable(rows: Row[]) {
  const headers: (keyof Row)[] = ['benchmark', 'measured', 'baseline', 'result', 'goal', 'verdict']
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => r[h].length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  console.log(line(headers))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const row of rows) console.log(line(headers.map((h) => row[h])))
}

/** Keeps the in-memory store the same size for every run. */
export async function emptyBucket(s3: S3Client, bucket: string) {
  for (;;) {
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }))
    if (Contents.length === 0) return
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: Contents.map((o) => ({ Key: o.Key! })) },
      }),
    )
  }
}

/**
 * Waits until the processes of `groups` (as `classify` names them) are idle, at most 30 s: what one
 * measurement leaves behind (the server's checks, the browser's garbage collection, RGW's freeing of
 * deleted objects) must not land on the next.
 */
export async function settle(classify: (pid: number, comm: string) => string | null, groups: string[]) {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const before = await cpuSnapshot()
    await new Promise((resolve) => setTimeout(resolve, 500))
    const used = cpuUsed(before, await cpuSnapshot(), classify)
    // Under 10% of one core over half a second.
    if (groups.reduce((sum, group) => sum + (used[group] ?? 0), 0) < 50) return
  }
}

/** The local S3 engine's processes (Ceph's monitor, OSD and RADOS Gateway) as the group `s3`. */
export const S3_PROCESSES = (_pid: number, comm: string) =>
  ['ceph-osd', 'ceph-mon', 'radosgw'].includes(comm) ? 's3' : null

/** Empties the bucket and waits until S3 has freed what it held (see LOCAL_CEPH_GC_SECONDS in index.ts). */
export async function emptyBucketAndSettle(s3: S3Client, bucket: string) {
  await emptyBucket(s3, bucket)
  await settle(S3_PROCESSES, ['s3'])
}

/** CPU time (user + system) of every process on this machine so far, in ms, by pid (Linux /proc). */
export type CpuSnapshot = Map<number, { comm: string; ms: number }>

export async function cpuSnapshot(): Promise<CpuSnapshot> {
  const ticksToMs = 10 // USER_HZ is 100 on Linux
  const snapshot: CpuSnapshot = new Map()
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name))
  await Promise.all(
    pids.map(async (pid) => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null)
      if (!stat) return
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      snapshot.set(Number(pid), { comm, ms: (Number(fields[11]) + Number(fields[12])) * ticksToMs })
    }),
  )
  return snapshot
}

/**
 * The CPU time processes used between two snapshots, summed by the group `classify` puts them in
 * (processes it returns null for are left out).
 */
export function cpuUsed(
  before: CpuSnapshot,
  after: CpuSnapshot,
  classify: (pid: number, comm: string) => string | null,
): Record<string, number> {
  const used: Record<string, number> = {}
  for (const [pid, { comm, ms }] of after) {
    const group = classify(pid, comm)
    if (!group) continue
    used[group] = (used[group] ?? 0) + ms - (before.get(pid)?.ms ?? 0)
  }
  return used
}

/** A bench entry (beside this file) as one script for the page, with the app's `~` imports. */
export async function bundle(entry: string, aliases: { find: RegExp; replacement: string }[] = []) {
  const here = path.dirname(new URL(import.meta.url).pathname)
  const output = await build({
    configFile: false,
    logLevel: 'error',
    resolve: { alias: [...aliases, { find: /^~\//, replacement: `${path.resolve(here, '../../app')}/` }] },
    build: {
      write: false,
      minify: true,
      lib: { entry: path.join(here, entry), formats: ['iife'], name: 'BenchEntry' },
    },
  })
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((result) =>
    'output' in result ? result.output : [],
  )
  const script = chunks.find((chunk) => chunk.type === 'chunk')
  if (!script || script.type !== 'chunk') throw new Error(`the bundle of ${entry} came out empty`)
  return script.code
}

/** A PNG of about `bytes` whose every pixel is its own (noise does not compress), so decoding it costs what a real image of that size costs. */
export async function realPng(file: string, bytes: number) {
  const side = Math.round(Math.sqrt(bytes / 3))
  await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toFile(file)
  return file
}
