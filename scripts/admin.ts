/**
 * npm run admin -- list
 * npm run admin -- add <email>        (asks for the password; or pipe it on standard input)
 * npm run admin -- password <email>   (the same; ends every session of that admin)
 * npm run admin -- remove <email>     (ends every session; the admin's products stay)
 * Works beside a running app, against the same database.
 */
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'
import { Writable } from 'node:stream'
import { addAdmin, listAdmins, removeAdmin, setAdminPassword } from '../app/models/admin.server'
import { createSql } from '../app/utils/db.server'
import { parseEnv } from '../app/utils/env.server'
import { errorMessage } from '../app/utils/errors'
import { connectServices } from '../server/services'

const USAGE = 'Usage: npm run admin -- list | add <email> | password <email> | remove <email>'
const MIN_PASSWORD_LENGTH = 12

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = ''
    for await (const chunk of process.stdin) text += String(chunk)
    return text.split(/\r?\n/)[0] ?? ''
  }
  // Typed without echo: the password never shows on screen or in the shell's history.
  let muted = false
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stdout.write(chunk)
      done()
    },
  })
  const rl = createInterface({ input: process.stdin, output, terminal: true })
  const ask = async (prompt: string) => {
    process.stdout.write(prompt)
    muted = true
    const answer = await rl.question('')
    muted = false
    process.stdout.write('\n')
    return answer
  }
  const first = await ask('Password: ')
  const again = await ask('Again: ')
  rl.close()
  if (first !== again) throw new Error('The two passwords differ; nothing changed.')
  return first
}

async function newPassword() {
  const password = await readPassword()
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new Error(`A password needs at least ${MIN_PASSWORD_LENGTH} characters; nothing changed.`)
  }
  return password
}

const [command, email] = process.argv.slice(2)
if (!command || !['list', 'add', 'password', 'remove'].includes(command) || (command !== 'list' && !email)) {
  console.error(USAGE)
  process.exit(2)
}

if (existsSync('.env')) process.loadEnvFile('.env')
let env = parseEnv(process.env)
const services = await connectServices(env, () => {})
env = parseEnv({ ...process.env, ...services.overrides })
const sql = createSql(env.DATABASE_URL!, { max: 1 })
try {
  if (command === 'list') {
    const admins = await listAdmins({ sql })
    for (const admin of admins) {
      const from = admin.source === 'env' ? 'ADMIN_EMAIL' : 'npm run admin'
      const state = admin.disabled ? 'disabled (ADMIN_EMAIL names another admin)' : 'active'
      console.log(`${admin.email}\t${state}\tfrom ${from}\t${admin.sessions} session(s)`)
    }
    if (admins.length === 0) console.log('No admins yet.')
  } else if (command === 'add') {
    const admin = await addAdmin({ email: email!, password: await newPassword(), sql })
    console.log(`Added ${admin.email}; it can sign in now.`)
  } else if (command === 'password') {
    await setAdminPassword({ email: email!, password: await newPassword(), sql })
    console.log(`Changed the password of ${email}; every session it had has ended.`)
  } else {
    await removeAdmin({ email: email!, sql })
    console.log(`Removed ${email}; every session it had has ended.`)
  }
} catch (error) {
  console.error(errorMessage(error))
  process.exitCode = 1
} finally {
  await sql.end()
  await services.stop()
}
