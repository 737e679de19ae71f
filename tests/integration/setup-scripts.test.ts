import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCrontab } from 'graphile-worker'
import { CRONTAB } from '~/jobs/worker.server'
import { listAdmins } from '~/models/admin.server'
import { estimateSecretBits, EXAMPLE_SECRETS, MIN_SECRET_BITS } from '~/utils/env.server'
import { createEnvFile } from '../../scripts/create-env'

describe('scripts/setup.sh writes a .env', () => {
  it('with a SESSION_SECRET of its own, strong enough for production, and leaves an existing .env alone', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'create-env-'))
    try {
      const [first, second] = ['first', 'second'].map((name) => path.join(dir, name))
      expect(createEnvFile({ target: first! })).toBe(true)
      expect(createEnvFile({ target: second! })).toBe(true)
      const secretOf = async (file: string) =>
        /^SESSION_SECRET=(.+)$/m.exec(await readFile(file, 'utf8'))![1]!
      const [a, b] = [await secretOf(first!), await secretOf(second!)]
      expect(a).not.toBe(EXAMPLE_SECRETS.SESSION_SECRET)
      expect(a).not.toBe(b)
      expect(estimateSecretBits(a)).toBeGreaterThanOrEqual(MIN_SECRET_BITS)
      // Everything else is the example as it is.
      const example = await readFile('.env.example', 'utf8')
      expect((await readFile(first!, 'utf8')).replace(a, EXAMPLE_SECRETS.SESSION_SECRET)).toBe(example)
      await writeFile(first!, 'MINE=1\n')
      expect(createEnvFile({ target: first! })).toBe(false)
      expect(await readFile(first!, 'utf8')).toBe('MINE=1\n')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

/** Runs `npm run admin -- …` (without npm) against the test services; `input` goes to standard input. */
function admin(args: string[], input = '') {
  return new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], {
      env: { ...process.env, SKIP_ENV_FILE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.stdin.end(input)
    child.on('close', (code) => resolve({ code: code ?? -1, out }))
  })
}

describe('npm run admin', () => {
  it('adds, lists, changes the password of and removes an admin', async () => {
    const email = `cli-${Date.now()}@example.com`
    expect(await admin(['add', email], 'short\n')).toMatchObject({
      code: 1,
      out: expect.stringContaining('at least 12 characters'),
    })
    expect(await admin(['add', email], 'a good long password\n')).toMatchObject({
      code: 0,
      out: `Added ${email}; it can sign in now.\n`,
    })
    expect((await admin(['list'])).out).toMatch(
      new RegExp(`^${email}\\tactive\\tfrom npm run admin\\t0 session\\(s\\)$`, 'm'),
    )
    expect(await admin(['password', email], 'another long password\n')).toMatchObject({ code: 0 })
    expect(await admin(['remove', email])).toMatchObject({
      code: 0,
      out: `Removed ${email}; every session it had has ended.\n`,
    })
    expect((await listAdmins()).some((a) => a.email === email)).toBe(false)
    expect(await admin(['remove', email])).toMatchObject({
      code: 1,
      out: `No admin has the email ${email}.\n`,
    })
    expect(await admin(['frobnicate'])).toMatchObject({
      code: 2,
      out: expect.stringContaining('Usage: npm run admin'),
    })
  })
})

describe('scheduled work', () => {
  it('runs deletion retries every minute and cleanup every hour, once per tick across servers', () => {
    const items = parseCrontab(CRONTAB)
    expect(items.map((item) => [item.task, item.options.jobKey])).toEqual([
      ['storage_deletions', 'storage-deletions-cron'],
      ['cleanup', 'cleanup'],
    ])
  })
})
