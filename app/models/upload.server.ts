import { getSql, type Sql } from '~/utils/db.server'

export interface UploadRecord {
  key: string
  adminId: number
  fileName: string
  contentType: string
  declaredSize: number
  multipart: boolean
  /** Lowercase hex MD5 of the whole object: a single PUT's signed digest, or what the server streamed. */
  contentMd5?: string | null
  /** Lowercase hex MD5 of each part, first part first (the server's own multipart streaming). */
  partMd5s?: readonly string[] | null
}

/** Records a staging key the server issued to an admin, with the digests its bytes must have when known. */
export async function recordUpload(upload: UploadRecord) {
  const sql = getSql()
  const parts = upload.partMd5s ? Object.fromEntries(upload.partMd5s.map((md5, i) => [i + 1, md5])) : null
  await sql`
    insert into uploads (key, admin_id, file_name, content_type, declared_size, multipart, content_md5, part_md5s)
    values (${upload.key}, ${upload.adminId}, ${upload.fileName}, ${upload.contentType},
            ${upload.declaredSize}, ${upload.multipart}, ${upload.contentMd5 ?? null},
            ${parts ? sql.json(parts) : null})`
}

/**
 * Records the digests parts of a multipart upload were signed with, in one statement however many
 * (a part signed again replaces its digest: S3 keeps the last bytes sent for a part number).
 */
export async function recordPartDigests({
  key,
  adminId,
  parts,
}: {
  key: string
  adminId: number
  parts: readonly { partNumber: number; md5: string }[]
}) {
  if (parts.length === 0) return
  const sql = getSql()
  const merged = Object.fromEntries(parts.map((part) => [part.partNumber, part.md5]))
  await sql`
    update uploads set part_md5s = coalesce(part_md5s, '{}'::jsonb) || ${sql.json(merged)}
    where key = ${key} and admin_id = ${adminId} and multipart`
}

export interface UploadDigests {
  contentMd5: string | null
  /** Part number (as a string, JSON's keys) to lowercase hex MD5. */
  partMd5s: Record<string, string> | null
}

/** The digests recorded for an upload; null when the key was never issued. */
export async function uploadDigests({ key }: { key: string }): Promise<UploadDigests | null> {
  const [row] = await getSql()<UploadDigests[]>`
    select content_md5 as "contentMd5", part_md5s as "partMd5s" from uploads where key = ${key}`
  return row ?? null
}

/**
 * Binds a multipart upload id to the admin's staging key the first time a request names it, and says
 * whether `uploadId` is the one bound. False too when the key was never issued to this admin.
 */
export async function bindUploadId({
  key,
  adminId,
  uploadId,
}: {
  key: string
  adminId: number
  uploadId: string
}): Promise<boolean> {
  const [row] = await getSql()<{ uploadId: string }[]>`
    update uploads set upload_id = coalesce(upload_id, ${uploadId})
    where key = ${key} and admin_id = ${adminId} and multipart
    returning upload_id as "uploadId"`
  return row?.uploadId === uploadId
}

/** Forgets the records of uploads under `prefix` never attached and issued before `before`; returns how many. */
export async function forgetUnattachedUploads({
  sql = getSql(),
  before,
  prefix,
}: {
  sql?: Sql
  before: Date
  prefix: string
}) {
  const forgotten = await sql`
    delete from uploads where attached_to is null and created_at < ${before} and key like ${`${prefix}%`}`
  return forgotten.count
}

/** Uploads an admin has had signed since `since` and not attached to a product: the cap counts them. */
export async function countOpenUploads({ adminId, since }: { adminId: number; since: Date }) {
  const [row] = await getSql()<{ n: number }[]>`
    select count(*)::int as n from uploads
    where admin_id = ${adminId} and attached_to is null and created_at > ${since}`
  return row!.n
}
