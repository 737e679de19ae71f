import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Sql } from 'postgres'

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations')
// Any constant works; it only has to be the same for every process migrating this database.
const MIGRATION_LOCK_ID = 727_274_001

/**
 * Applies the numbered SQL files in db/migrations that this database has not seen, in order, all in one
 * transaction: if one fails, none is applied. A transaction-scoped advisory lock makes concurrent starts
 * wait for each other instead of colliding. Returns the names it applied.
 */
export async function migrate(sql: Sql): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort()
  return sql.begin(async (tx) => {
    // Transaction-scoped lock: released on commit or rollback, even if this process dies.
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`
    await tx`create table if not exists schema_migrations (
      name text primary key,
      applied_at timestamptz not null default now()
    )`
    const done = new Set(
      (await tx<{ name: string }[]>`select name from schema_migrations`).map((r) => r.name),
    )
    const applied: string[] = []
    for (const file of files) {
      if (done.has(file)) continue
      const text = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8')
      await tx.unsafe(text)
      await tx`insert into schema_migrations (name) values (${file})`
      applied.push(file)
    }
    return applied
  })
}
