import { existsSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../server/processes'
import { startLocalPostgres } from '../../server/local-postgres'

describe('the local PostgreSQL as root', () => {
  it.runIf(process.getuid?.() === 0)(
    'starts a cluster asked for inside a directory of mode 700 where its user can reach it, and says where',
    async () => {
      const home = await mkdtemp(path.join(os.tmpdir(), 'home-700-'))
      await chmod(home, 0o700)
      const lines: string[] = []
      const pg = await startLocalPostgres({
        dataDir: path.join(home, '.data', 'postgres'),
        port: await freePort(),
        database: 'newcomer',
        log: (line) => lines.push(line),
      })
      const moved = /its cluster lives in (\S+)/.exec(lines.join('\n'))?.[1]
      try {
        expect(moved).toMatch(/^\/var\/lib\/product-images\/[0-9a-f]{12}\/postgres$/)
        const sql = postgres(pg.url, { max: 1, onnotice: () => {} })
        expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }])
        await sql.end()
      } finally {
        await pg.stop()
        if (moved) await rm(path.dirname(moved), { recursive: true, force: true })
        await rm(home, { recursive: true, force: true })
      }
      expect(existsSync(moved!)).toBe(false)
    },
  )
})
