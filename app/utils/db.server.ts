import postgres from 'postgres'
import { getEnv } from './env.server'

export type Sql = postgres.Sql

declare global {
  var __productImagesSql: Sql | undefined
}

/** Creates a connection pool; the app keeps one, scripts and tests may make their own. */
export function createSql(url: string, options: { max?: number } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    transform: { undefined: null },
  })
}

/** The app's single pool, kept on globalThis so dev reloads do not leak pools. */
export function getSql(): Sql {
  globalThis.__productImagesSql ??= createSql(getEnv().DATABASE_URL)
  return globalThis.__productImagesSql
}

export async function closeSql() {
  const sql = globalThis.__productImagesSql
  globalThis.__productImagesSql = undefined
  await sql?.end({ timeout: 5 })
}
