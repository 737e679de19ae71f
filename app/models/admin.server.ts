import type { Sql } from '~/utils/db.server'
import { getSql } from '~/utils/db.server'
import { hashPassword, verifyPassword } from '~/utils/password.server'
import { forgetVerifiedSessions } from '~/utils/session.server'

export interface Admin {
  id: number
  email: string
}

export interface AdminListing extends Admin {
  source: 'env' | 'command'
  disabled: boolean
  sessions: number
  createdAt: Date
}

const normalize = (email: string) => email.trim().toLowerCase()

/** An admin's email and a new password, on the app's pool unless a script passes its own. */
interface Credentials {
  email: string
  password: string
  sql?: Sql
}

/** An admin the command was asked to change does not exist. */
export class UnknownAdminError extends Error {
  constructor(email: string) {
    super(`No admin has the email ${normalize(email)}.`)
  }
}

/**
 * Makes the admin named by ADMIN_EMAIL able to sign in with ADMIN_PASSWORD (created, re-enabled, or its
 * hash updated; a changed password ends its sessions). Any other admin that only ADMIN_EMAIL ever named
 * (not added with `npm run admin -- add`) is disabled and signed out. Runs at start-up; safe to run from
 * several processes at once.
 */
export async function ensureAdmin({ email, password, sql = getSql() }: Credentials) {
  const normalized = normalize(email)
  const [existing] = await sql<{ id: number; passwordHash: string }[]>`
    select id, password_hash as "passwordHash" from admins where email = ${normalized}`
  const same = existing ? await verifyPassword(password, existing.passwordHash) : false
  const passwordHash = same ? existing!.passwordHash : await hashPassword(password)
  return sql
    .begin(async (tx) => {
      const [row] = await tx<{ id: number }[]>`
      insert into admins (email, password_hash, source) values (${normalized}, ${passwordHash}, 'env')
      on conflict (email) do update
        set password_hash = excluded.password_hash, disabled_at = null,
            updated_at = case when admins.password_hash = excluded.password_hash then admins.updated_at else now() end
      returning id`
      const id = Number(row!.id)
      if (existing && !same) await tx`delete from admin_sessions where admin_id = ${id}`
      const dropped = await tx<{ id: number }[]>`
      update admins set disabled_at = now()
      where source = 'env' and email <> ${normalized} and disabled_at is null
      returning id`
      if (dropped.length > 0) {
        await tx`delete from admin_sessions where admin_id in ${tx(dropped.map((admin) => admin.id))}`
      }
      return id
    })
    .finally(forgetVerifiedSessions)
}

/** Adds an admin (`npm run admin -- add`); it keeps signing in whatever ADMIN_EMAIL says. */
export async function addAdmin({ email, password, sql = getSql() }: Credentials): Promise<Admin> {
  const normalized = normalize(email)
  const passwordHash = await hashPassword(password)
  const [row] = await sql<{ id: number }[]>`
    insert into admins (email, password_hash, source) values (${normalized}, ${passwordHash}, 'command')
    on conflict (email) do nothing
    returning id`
  if (!row) throw new Error(`${normalized} is already an admin; use \`password\` to change the password.`)
  return { id: Number(row.id), email: normalized }
}

/** Removes an admin; its sessions end with it (its products stay). */
export async function removeAdmin({ email, sql = getSql() }: { email: string; sql?: Sql }) {
  const result = await sql`delete from admins where email = ${normalize(email)}`
  forgetVerifiedSessions()
  if (result.count === 0) throw new UnknownAdminError(email)
}

/** Sets an admin's password and ends every session it has. */
export async function setAdminPassword({ email, password, sql = getSql() }: Credentials) {
  const passwordHash = await hashPassword(password)
  await sql.begin(async (tx) => {
    const [row] = await tx<{ id: number }[]>`
      update admins set password_hash = ${passwordHash}, updated_at = now()
      where email = ${normalize(email)} returning id`
    if (!row) throw new UnknownAdminError(email)
    await tx`delete from admin_sessions where admin_id = ${row.id}`
  })
  forgetVerifiedSessions()
}

export async function listAdmins({ sql = getSql() }: { sql?: Sql } = {}): Promise<AdminListing[]> {
  const rows = await sql<(Omit<AdminListing, 'sessions'> & { sessions: string })[]>`
    select a.id, a.email, a.source, a.disabled_at is not null as disabled, a.created_at as "createdAt",
           (select count(*) from admin_sessions s where s.admin_id = a.id and s.expires_at > now()) as sessions
    from admins a order by a.email`
  return rows.map((row) => ({ ...row, id: Number(row.id), sessions: Number(row.sessions) }))
}

/** The admin with these credentials, or null. Takes the same time whether or not the email exists. */
export async function verifyLogin({
  email,
  password,
}: {
  email: string
  password: string
}): Promise<Admin | null> {
  const [row] = await getSql()<{ id: number; email: string; passwordHash: string }[]>`
    select id, email, password_hash as "passwordHash" from admins
    where email = ${normalize(email)} and disabled_at is null`
  const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH)
  return row && ok ? { id: Number(row.id), email: row.email } : null
}

// A real scrypt hash of a random password, so unknown emails cost as much as wrong passwords.
const DUMMY_HASH =
  'scrypt$16384$8$1$0U8y6cI2PT7F2n1Yk3t3Yw$Gkq9m0gO1m5f3G8bQmN1v7wZ2Yc4pKj8sX0rT6uV9aB3dE5fH7iJ2kL4mN6oP8qR0sT2uV4wX6yZ8aB0cD2eF4g'

/** Forgets sessions past their maximum age (they are refused already); returns how many. */
export async function forgetExpiredSessions({ sql = getSql() }: { sql?: Sql } = {}) {
  const result = await sql`delete from admin_sessions where expires_at < now()`
  return result.count
}
