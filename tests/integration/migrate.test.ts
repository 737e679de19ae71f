import { describe, expect, it } from 'vitest'
import { createSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { migrate } from '../../db/migrate'

describe('migrations', () => {
  it('let several processes start at once without colliding', async () => {
    // A fresh database, so every migration really runs while the others wait.
    const admin = createSql(getEnv().DATABASE_URL, { max: 1 })
    const name = `migrate_${Date.now()}`
    await admin.unsafe(`create database ${name}`)
    const url = new URL(getEnv().DATABASE_URL)
    url.pathname = `/${name}`
    const pools = Array.from({ length: 4 }, () => createSql(url.toString(), { max: 1 }))
    try {
      const results = await Promise.all(pools.map((sql) => migrate(sql)))
      const applied = results.filter((r) => r.length > 0)
      expect(applied).toHaveLength(1)
      expect(applied[0]).toContain('0001_init.sql')
      const [row] = await pools[0]!<{ count: number }[]>`select count(*)::int as count from schema_migrations`
      expect(row!.count).toBe(applied[0]!.length)
    } finally {
      await Promise.all(pools.map((sql) => sql.end()))
      await admin.unsafe(`drop database ${name}`)
      await admin.end()
    }
  })
})
