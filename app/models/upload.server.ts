import { getSql } from '~/utils/db.server'

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

/** The upload behind a key, only if it was issued to this admin. */
export async function getUpload({
  key,
  adminId,
}: {
  key: string
  adminId: number
}): Promise<UploadRecord | null> {
  const [row] = await getSql()<(Omit<UploadRecord, 'declaredSize'> & { declaredSize: string })[]>`
    select key, admin_id as "adminId", file_name as "fileName", content_type as "contentType",
           declared_size as "declaredSize", multipart
    from uploads where key = ${key} and admin_id = ${adminId}`
  return row ? { ...row, declaredSize: Number(row.declaredSize) } : null
}
