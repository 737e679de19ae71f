import { randomUUID } from 'node:crypto'
import { addAdmin, type Admin } from '~/models/admin.server'
import { getSessionStorage } from '~/utils/session.server'

/** A fresh admin of its own, so tests never share staging namespaces. */
export async function createTestAdmin(label = 'admin'): Promise<Admin> {
  const email = `${label}-${randomUUID()}@example.com`
  return addAdmin({ email, password: 'password-123' })
}

/** The Cookie header of a signed-in session for `admin`. */
export async function sessionCookie(admin: Admin): Promise<string> {
  const storage = getSessionStorage()
  const session = await storage.getSession()
  session.set('adminId', admin.id)
  session.set('email', admin.email)
  return (await storage.commitSession(session)).split(';')[0]!
}
