import { getEnv } from '~/utils/env.server'
import { getPresigner, VARIANTS_PREFIX } from '~/utils/storage.server'

const VIEW_URL_LIFETIME_SECONDS = 2 * 60 * 60
const VIEW_URL_WINDOW_MS = 60 * 60 * 1000

/**
 * A URL the browser can load a variant from: PUBLIC_BASE_URL + key when set (only for variants/; any
 * other key is always presigned), otherwise a presigned GET.
 * Presigned URLs are signed as of the start of the current hour and live two hours, so the same key
 * gets the same URL for an hour and the browser cache keeps working.
 */
export async function imageUrl(key: string): Promise<string> {
  const env = getEnv()
  if (env.PUBLIC_BASE_URL && key.startsWith(VARIANTS_PREFIX))
    return `${env.PUBLIC_BASE_URL.replace(/\/+$/, '')}/${key}`
  return presignedViewUrl(key)
}

/** A presigned GET, stable within the hour. */
export async function presignedViewUrl(key: string, now = Date.now()): Promise<string> {
  return getPresigner().presign({
    method: 'GET',
    key,
    expiresIn: VIEW_URL_LIFETIME_SECONDS,
    signingDate: new Date(Math.floor(now / VIEW_URL_WINDOW_MS) * VIEW_URL_WINDOW_MS),
  })
}

const DOWNLOAD_URL_SECONDS = 5 * 60

/** A short-lived URL that downloads an original as an attachment named `fileName`. */
export async function originalDownloadUrl(key: string, fileName: string): Promise<string> {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return getPresigner().presign({
    method: 'GET',
    key,
    expiresIn: DOWNLOAD_URL_SECONDS,
    query: {
      'response-content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`,
    },
  })
}
