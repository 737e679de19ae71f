/**
 * Writes .env from .env.example with a SESSION_SECRET of this machine's own (scripts/setup.sh runs it),
 * so development never signs cookies with the secret everybody can read in the repository.
 * Leaves an existing .env alone.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

export function createEnvFile({ example = '.env.example', target = '.env' } = {}): boolean {
  if (existsSync(target)) return false
  const secret = randomBytes(32).toString('base64url')
  const text = readFileSync(example, 'utf8').replace(/^SESSION_SECRET=.*$/m, `SESSION_SECRET=${secret}`)
  writeFileSync(target, text, { mode: 0o600 })
  return true
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && createEnvFile()) {
  console.log(
    'Created .env from .env.example, with a freshly generated SESSION_SECRET (local defaults, works offline).',
  )
}
