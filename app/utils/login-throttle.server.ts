import { RateLimiterPostgres, type RateLimiterRes } from 'rate-limiter-flexible'
import { getSql, type Sql } from './db.server'

/** Failures that cost nothing; after them, each failure makes the next attempt wait twice as long. */
export const FREE_FAILURES = { account: 5, address: 20 } as const
export const MAX_WAIT_SECONDS = 15 * 60
/** How long failures are remembered without a success (per account) or at all (per address). */
const FAILURE_MEMORY_SECONDS = 24 * 60 * 60

type Scope = keyof typeof FREE_FAILURES

/** rate-limiter-flexible talks to a `pg`-style client; postgres.js answers the same questions. */
export function pgStyleClient(sql: Sql) {
  return {
    async query({ text, values }: { text: string; values?: unknown[] }) {
      const rows = await sql.unsafe(text, (values ?? []) as never[])
      return { rows, rowCount: rows.count }
    },
  }
}

function limiter(sql: Sql, keyPrefix: string, points: number, duration: number) {
  return new RateLimiterPostgres({
    storeClient: pgStyleClient(sql),
    storeType: 'pool',
    tableName: 'login_limits',
    // The table comes from db/migrations: the app never runs DDL.
    tableCreated: true,
    keyPrefix,
    points,
    duration,
  })
}

let limiters: { failures: RateLimiterPostgres; waits: RateLimiterPostgres } | undefined

// Two stores in one table: a count of failures, and the wait the last failure earned (a block).
function getLimiters() {
  const sql = getSql()
  limiters ??= {
    failures: limiter(sql, 'failures', Number.MAX_SAFE_INTEGER, FAILURE_MEMORY_SECONDS),
    waits: limiter(sql, 'wait', 1, 1),
  }
  return limiters
}

/** The wait after `failures` failures in a row: none for the free ones, then 1 s, 2 s, 4 s … up to 15 min. */
export function waitAfter(failures: number, free: number) {
  if (failures <= free) return 0
  return Math.min(2 ** (failures - free - 1), MAX_WAIT_SECONDS)
}

export interface Attempt {
  /** The account's email, normalised. */
  email: string
  /** The client address (see TRUST_PROXY). */
  address: string
}

const keys = ({ email, address }: Attempt): Record<Scope, string> => ({
  account: email.trim().toLowerCase(),
  address,
})

const secondsLeft = (res: RateLimiterRes | null) =>
  res && res.consumedPoints > 1 ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0

/** Seconds until this account and address may try again; 0 when they may now. */
export async function loginWaitSeconds(attempt: Attempt): Promise<number> {
  const { waits } = getLimiters()
  const k = keys(attempt)
  const [account, address] = await Promise.all([
    waits.get(`account:${k.account}`),
    waits.get(`address:${k.address}`),
  ])
  return Math.max(secondsLeft(account), secondsLeft(address))
}

/** Counts a failed sign-in for the account and the address; returns the wait it earned (seconds). */
export async function recordLoginFailure(attempt: Attempt): Promise<number> {
  const { failures, waits } = getLimiters()
  const k = keys(attempt)
  const waitsEarned = await Promise.all(
    (['account', 'address'] as const).map(async (scope) => {
      const count = await failures.penalty(`${scope}:${k[scope]}`, 1)
      const wait = waitAfter(count.consumedPoints, FREE_FAILURES[scope])
      if (wait > 0) await waits.block(`${scope}:${k[scope]}`, wait)
      return { scope, count: count.consumedPoints, wait }
    }),
  )
  const wait = Math.max(...waitsEarned.map((w) => w.wait))
  const counts = waitsEarned.map((w) => `${w.count} for the ${w.scope}`).join(', ')
  console.warn(
    `[auth] failed sign-in for ${JSON.stringify(k.account)} from ${JSON.stringify(k.address)}: ${counts}` +
      (wait > 0 ? `; next attempt waits ${wait} s` : ''),
  )
  return wait
}

/** A successful sign-in forgets the account's failures (not the address's: one's own account proves nothing). */
export async function recordLoginSuccess(attempt: Attempt) {
  const { failures, waits } = getLimiters()
  const account = `account:${keys(attempt).account}`
  await Promise.all([failures.delete(account), waits.delete(account)])
}
