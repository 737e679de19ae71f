import postgres from 'postgres'
import { getEnv } from './env.server'

export type Sql = postgres.Sql

declare global {
  var __productImagesSql: Sql | undefined
}

/** Creates a connection pool; the app keeps one, scripts and tests may make their own. */
export function createSql(url: string, options: { max?: number; statementTimeoutMs?: number } = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    transform: { undefined: null },
    ...(options.statementTimeoutMs
      ? {
          connection: {
            statement_timeout: options.statementTimeoutMs,
            idle_in_transaction_session_timeout: options.statementTimeoutMs * 2,
          },
        }
      : {}),
  })
}

/**
 * The app's single pool, kept on globalThis so dev reloads do not leak pools. No statement of a request
 * may run (or wait for a lock) longer than 15 s; migrations and scripts use pools of their own.
 */
export function getSql(): Sql {
  globalThis.__productImagesSql ??= createSql(getEnv().DATABASE_URL, { statementTimeoutMs: 15_000 })
  return globalThis.__productImagesSql
}

export async function closeSql() {
  const sql = globalThis.__productImagesSql
  globalThis.__productImagesSql = undefined
  await sql?.end({ timeout: 5 })
}
