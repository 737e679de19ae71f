import type { Sql } from '~/utils/db.server'
import { getSql } from '~/utils/db.server'
import { hashPassword, verifyPassword } from '~/utils/password.server'

export interface Admin {
  id: number
  email: string
}

/**
 * Creates the admin named by ADMIN_EMAIL, or updates its password hash when ADMIN_PASSWORD changed.
 * Runs at start-up; safe to run from several processes at once.
 */
export async function ensureAdmin({
  email,
  password,
  sql = getSql(),
}: {
  email: string
  password: string
  sql?: Sql
}) {
  const normalized = email.trim().toLowerCase()
  const [existing] = await sql<{ id: number; passwordHash: string }[]>`
    select id, password_hash as "passwordHash" from admins where email = ${normalized}`
  if (existing && (await verifyPassword(password, existing.passwordHash))) return existing.id
  const passwordHash = await hashPassword(password)
  const [row] = await sql<{ id: number }[]>`
    insert into admins (email, password_hash) values (${normalized}, ${passwordHash})
    on conflict (email) do update set password_hash = excluded.password_hash, updated_at = now()
    returning id`
  return row!.id
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
    select id, email, password_hash as "passwordHash" from admins where email = ${email.trim().toLowerCase()}`
  const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH)
  return row && ok ? { id: Number(row.id), email: row.email } : null
}

export async function getAdmin({ adminId }: { adminId: number }): Promise<Admin | null> {
  const [row] = await getSql()<{ id: number; email: string }[]>`
    select id, email from admins where id = ${adminId}`
  return row ? { id: Number(row.id), email: row.email } : null
}

// A real scrypt hash of a random password, so unknown emails cost as much as wrong passwords.
const DUMMY_HASH =
  'scrypt$16384$8$1$0U8y6cI2PT7F2n1Yk3t3Yw$Gkq9m0gO1m5f3G8bQmN1v7wZ2Yc4pKj8sX0rT6uV9aB3dE5fH7iJ2kL4mN6oP8qR0sT2uV4wX6yZ8aB0cD2eF4g'
