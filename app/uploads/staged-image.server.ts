import { createHash } from 'node:crypto'
import { uploadDigests, type UploadDigests } from '~/models/upload.server'
import { SNIFF_BYTES } from './sniff'
import { sniffProblem, sniffUpload } from './sniff.server'
import { ObjectChangedError, readObjectRange, readObjectStart } from '~/utils/storage.server'
import type { UploadRef } from './refs.server'
import { dimensionsProblem, formatBytes, type UploadLimits } from './limits'
import { ALLOWED_TYPES_LABEL, type ImageType } from './image-types'

/** A staged object whose bytes the server has checked: it exists, fits the limit and is an image. */
export interface StagedImage {
  key: string
  fileName: string
  contentType: ImageType
  byteSize: number
  width: number
  height: number
  /**
   * The ETag of the bytes that were checked (the one the upload's digests imply, where the engine's
   * ETags are MD5-based): the copy into a product is conditional on it.
   */
  etag: string
}

export type StagedCheck = { ok: true; image: StagedImage } | { ok: false; error: string }

/**
 * The check every image passes before it is attached, whichever way it was uploaded: the object exists,
 * its size is within the limit, and its header is an accepted image (whatever type it was uploaded as)
 * with dimensions within the limits, and its ETag is the one the digests it was uploaded with imply (see
 * holdEtag). That ETag is kept, so exactly these bytes are copied.
 */
export async function checkStagedUpload(
  ref: UploadRef,
  { maxImageBytes: maxBytes, maxImagePixels }: Pick<UploadLimits, 'maxImageBytes' | 'maxImagePixels'>,
): Promise<StagedCheck> {
  const name = ref.fileName
  // The object's first bytes and the digests it was uploaded with, at once: S3 and PostgreSQL.
  const [info, digests] = await Promise.all([
    readObjectStart(ref.key, SNIFF_BYTES),
    uploadDigests({ key: ref.key }),
  ])
  if (!info)
    return {
      ok: false,
      error: `${name} is not in storage (it never finished uploading or has expired); please add it again.`,
    }
  if (info.byteSize > maxBytes) {
    return { ok: false, error: `${name} is larger than ${formatBytes(maxBytes)}, the limit for one image.` }
  }
  if (!info.etag) throw new Error(`S3 returned no ETag for ${ref.key}`)
  const held = holdEtag(info.etag, digests, info.opaqueEtag)
  if (held.verdict === 'mismatch') {
    console.warn(`ETag mismatch on ${ref.key}: S3 has ${info.etag}, the digests imply ${held.expected}`)
    return { ok: false, error: `${name} changed or was damaged on its way to storage; add it again.` }
  }
  const etag = held.expected ?? info.etag
  let sniff
  try {
    sniff = await sniffUpload(info.head, {
      byteSize: info.byteSize,
      read: (start, length) => readObjectRange(ref.key, start, length, etag),
    })
  } catch (error) {
    if (!(error instanceof ObjectChangedError)) throw error
    return { ok: false, error: `${name} changed in storage while it was being checked; please add it again.` }
  }
  if (!sniff.ok) return { ok: false, error: sniffProblem(name, sniff, ALLOWED_TYPES_LABEL) }
  // The bytes decide the type, not the name: a PNG saved as .jpg is taken as the PNG it is.
  const sniffed = sniff.image
  const tooLarge = dimensionsProblem(name, sniffed, maxImagePixels)
  if (tooLarge) return { ok: false, error: tooLarge }
  return {
    ok: true,
    image: {
      key: ref.key,
      fileName: name,
      contentType: sniffed.type,
      byteSize: info.byteSize,
      width: sniffed.width,
      height: sniffed.height,
      etag,
    },
  }
}

export type EtagHeld =
  | { verdict: 'match'; expected: string }
  | { verdict: 'mismatch'; expected: string }
  /** Nothing to compare: no digests were recorded, or this engine's ETags are not MD5-based. */
  | { verdict: 'unknown'; expected: null }

const MD5_ETAG = /^([0-9a-f]{32})(?:-(\d+))?$/
const loggedOpaque = new Set<string>()

/**
 * Compares an object's ETag with the one its upload's digests imply: a single PUT's is the MD5 of its
 * bytes, a multipart upload's the MD5 of its parts' binary MD5s, then `-` and the part count. Where an
 * engine's ETags are not MD5-based (AWS under SSE-KMS or SSE-C; engines whose ETags are not 32 hex
 * digits, with or without `-N`), nothing can be compared, and what holds is S3's own check of the
 * Content-MD5 signed into every PUT and part (BadDigest); that is logged once per kind.
 */
export function holdEtag(etag: string, digests: UploadDigests | null, opaque = false): EtagHeld {
  const unknown = { verdict: 'unknown', expected: null } as const
  const whole = digests?.contentMd5 ?? null
  const parts = digests?.partMd5s ? multipartEtag(digests.partMd5s) : null
  if (!whole && !parts) return unknown
  const form = MD5_ETAG.exec(etag.replace(/"/g, '').toLowerCase())
  if (opaque || !form) {
    notMd5Based(opaque ? 'objects are encrypted with SSE-KMS or SSE-C' : `its ETags look like ${etag}`)
    return unknown
  }
  // A multipart ETag on a single PUT, or a plain MD5 on a multipart upload, is another object than
  // the one uploaded (AWS: an ETag that is not an MD5 is not 32 hex digits).
  const expected = form[2] ? parts : whole
  if (!expected) return { verdict: 'mismatch', expected: `"${whole ?? parts}"` }
  const quoted = `"${expected}"`
  return form[0] === expected
    ? { verdict: 'match', expected: quoted }
    : { verdict: 'mismatch', expected: quoted }
}

/** The multipart ETag parts 1..N with these digests make, or null unless every part from 1 on is known. */
function multipartEtag(partMd5s: Record<string, string>) {
  const count = Object.keys(partMd5s).length
  const hash = createHash('md5')
  for (let n = 1; n <= count; n++) {
    const md5 = partMd5s[n]
    if (!md5) return null
    hash.update(Buffer.from(md5, 'hex'))
  }
  return count > 0 ? `${hash.digest('hex')}-${count}` : null
}

function notMd5Based(why: string) {
  if (loggedOpaque.has(why)) return
  loggedOpaque.add(why)
  console.warn(
    `Storage ETags are not MD5-based here (${why}): uploads are not compared with their digests; S3's check of each request's Content-MD5 still holds.`,
  )
}
