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
