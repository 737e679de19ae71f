import { getSql, type Sql } from '~/utils/db.server'

export interface UploadRecord {
  key: string
  adminId: number
  fileName: string
  contentType: string
  declaredSize: number
  multipart: boolean
}

/** Records a staging key the server issued to an admin. */
export async function recordUpload(upload: UploadRecord) {
  await getSql()`
    insert into uploads (key, admin_id, file_name, content_type, declared_size, multipart)
    values (${upload.key}, ${upload.adminId}, ${upload.fileName}, ${upload.contentType},
            ${upload.declaredSize}, ${upload.multipart})`
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
