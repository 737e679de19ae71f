import AwsS3, { type AwsBody } from '@uppy/aws-s3'
import Uppy, { type Meta, type UppyFile } from '@uppy/core'
import { partSizeFor, type UploaderSettings } from '~/uploads/limits'
import { ACCEPTED_FILE_TYPES, ALLOWED_IMAGE_TYPES, imageTypeForFileName } from '~/uploads/image-types'
import { FileDigests } from './digest.client'
import { EarlyChecks } from './early-checks.client'
import { SigningError, UploadSigner, type UploadFile } from './signer.client'

export type ImageMeta = Meta & { uploadRef?: string; serverKey?: string }
export type ImageUppy = Uppy<ImageMeta, AwsBody>
export type ImageFile = UppyFile<ImageMeta, AwsBody>

/** Delays of the automatic retries; each retry signs every request again, so an expired URL heals itself. */
const RETRY_DELAYS_MS = [1000, 3000, 6000]

/**
 * Retries a failed upload on its own, up to RETRY_DELAYS_MS.length times (each retry signs every
 * request again, so an expired URL heals itself); a refusal the server means (a 4xx from signing) is
 * final. Says which files are waiting for a retry, and calls `changed` when that set changes.
 */
export function attachRetryPolicy(instance: ImageUppy, changed: () => void) {
  const attempts = new Map<string, number>()
  const retrying = new Set<string>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const onSuccess = (file: ImageFile | undefined) => {
    if (file) attempts.delete(file.id)
  }
  const onError = (file: ImageFile | undefined, error: Error & { status?: number }) => {
    if (!file) return
    const attempt = attempts.get(file.id) ?? 0
    const retryable = !(error instanceof SigningError) || error.status >= 500
    if (retryable && attempt < RETRY_DELAYS_MS.length) {
      attempts.set(file.id, attempt + 1)
      retrying.add(file.id)
      instance.setFileState(file.id, { error: `${describeError(error)} Retrying…` })
      queueMicrotask(changed)
      const timer = setTimeout(() => {
        timers.delete(timer)
        retrying.delete(file.id)
        if (instance.getFile(file.id)?.error) void instance.retryUpload(file.id)
        changed()
      }, RETRY_DELAYS_MS[attempt])
      timers.add(timer)
      return
    }
    instance.setFileState(file.id, { error: describeError(error) })
    queueMicrotask(changed)
  }
  const onRemoved = (file: ImageFile) => {
    attempts.delete(file.id)
    retrying.delete(file.id)
  }
  instance.on('upload-success', onSuccess)
  instance.on('upload-error', onError)
  instance.on('file-removed', onRemoved)
  return {
    retrying: retrying as ReadonlySet<string>,
    detach() {
      for (const timer of timers) clearTimeout(timer)
      instance.off('upload-success', onSuccess)
      instance.off('upload-error', onError)
      instance.off('file-removed', onRemoved)
    },
  }
}

/**
 * An Uppy whose files go straight to S3 through URLs the server signs: every single PUT and part
 * signed with the MD5 of its bytes (hashed in a worker), each drop signed ahead in few round trips, the
 * largest files first in the queue, multipart files given the connections the others leave free, and
 * finished uploads checked by the server in batches (their variants start then). `digests: false` is
 * for the benchmark's comparison only.
 */
export function createImageUppy(
  s: UploaderSettings,
  keptCount: () => number,
  { digests = true }: { digests?: boolean } = {},
): ImageUppy {
  const signer = new UploadSigner(s.urlTtlSeconds * 1000, undefined, digests ? new FileDigests() : null)
  const uploadFile = (file: ImageFile): UploadFile => ({
    id: file.id,
    name: file.name ?? 'image',
    type: file.type,
    size: file.size ?? 0,
    data: file.data as Blob,
  })
  const multipart = (file: ImageFile) => (file.size ?? 0) > s.multipartThresholdBytes
  const instance: ImageUppy = new Uppy<ImageMeta, AwsBody>({
    autoProceed: true,
    restrictions: restrictionsFor(s, keptCount()),
    // Uppy reads a maxNumberOfFiles of 0 as "no limit", so a form that is already full refuses here.
    onBeforeFileAdded: (file) => {
      if (keptCount() >= s.maxImagesPerProduct) {
        instance.info(
          `A product has at most ${s.maxImagesPerProduct} images; remove one to add another.`,
          'error',
          5000,
        )
        return false
      }
      // Browsers hand over .heic, .heif and .avifs files with no type or a generic one; their extension
      // says it, and the server checks the bytes anyway.
      const named = (ALLOWED_IMAGE_TYPES as string[]).includes(file.type)
        ? null
        : imageTypeForFileName(file.name ?? '')
      return named ? { ...file, type: named } : true
    },
  })
  instance.use(AwsS3<ImageMeta, AwsBody>, {
    limit: s.concurrency,
    shouldUseMultipart: multipart,
    // The connections the files in flight leave free go to the multipart files' parts (patched in,
    // see patches/README.md): one large file alone uses every connection, a full queue one each.
    getPartConcurrency: () => {
      const active = instance.getFiles().filter(isUploading)
      const inFlight = Math.min(s.concurrency, active.length)
      const multipartInFlight = Math.max(1, Math.min(inFlight, active.filter(multipart).length))
      return 1 + Math.floor(Math.max(0, s.concurrency - inFlight) / multipartInFlight)
    },
    getChunkSize: ({ size }) => partSizeFor(size),
    // Uppy's requested key is only a handle for the file; the server answers with the real key.
    generateObjectKey: (file) => file.id,
    allowedMetaFields: false,
    signRequest: async (request) => {
      const file = instance.getFile(request.key)
      const answer = await signer.sign(request, file && uploadFile(file))
      if (file && answer.ref && answer.key)
        instance.setFileMeta(file.id, { uploadRef: answer.ref, serverKey: answer.key })
      return { url: answer.url, key: answer.key, headers: answer.headers }
    },
  })
  // Every file of a drop is signed in one round trip, before its turn in the queue comes.
  instance.on('files-added', (added) =>
    signer.signAhead(added.map((file) => ({ ...uploadFile(file), multipart: multipart(file) }))),
  )
  instance.on('upload-success', (file) => file && signer.forget(file.id))
  instance.on('file-removed', (file) => signer.forget(file.id))
  // Uppy's destroy() cancels everything too: the worker goes with it (and starts again if needed).
  instance.on('cancel-all', () => signer.dispose())
  // Largest files first: a big multipart file started last would finish long after the rest. Only the
  // upload queue is reordered; the Dashboard and the hidden inputs keep the order the admin added the
  // files in. (Uppy re-reads the upload's file list after each pre-processor.)
  instance.addPreProcessor((fileIDs, uploadID) => {
    const { currentUploads } = instance.getState()
    const upload = currentUploads[uploadID]
    if (!upload) return
    const size = (id: string) => instance.getFile(id)?.size ?? 0
    const sorted = [...fileIDs].sort((a, b) => size(b) - size(a))
    instance.setState({ currentUploads: { ...currentUploads, [uploadID]: { ...upload, fileIDs: sorted } } })
  })
  // The server checks finished uploads and starts making their variants while the admin types.
  const checks = new EarlyChecks(() => instance.getFiles().some(isUploading))
  instance.on('upload-success', (file) => {
    const ref = file && instance.getFile(file.id)?.meta.uploadRef
    if (ref) checks.add(ref)
  })
  instance.on('upload-error', () => checks.settled())
  instance.on('complete', () => checks.settled())
  instance.on('cancel-all', () => checks.dispose())
  return instance
}

/** A file whose bytes are going up now: started, not finished, failed or paused. */
function isUploading(file: ImageFile) {
  return (
    Boolean(file.progress.uploadStarted) && !file.progress.uploadComplete && !file.error && !file.isPaused
  )
}

export function restrictionsFor(settings: UploaderSettings, keptCount: number) {
  return {
    maxFileSize: settings.maxImageBytes,
    maxNumberOfFiles: Math.max(0, settings.maxImagesPerProduct - keptCount),
    allowedFileTypes: ACCEPTED_FILE_TYPES,
  }
}

function describeError(error: Error & { status?: number; code?: string; serviceCode?: string }) {
  if (error instanceof SigningError) return error.message
  if (error.name === 'S3NetworkError' || /network/i.test(error.message)) {
    // Some S3 engines (Ceph among them) send refusals without CORS headers, which a browser cannot tell
    // from a dropped connection; so the message names both.
    return 'Storage did not accept the upload: the connection dropped, or storage refused it (an expired link, wrong credentials, or CORS rules that do not allow this app).'
  }
  const status = error.status
  if (status === 403)
    return 'Storage refused the upload (403): the link expired, or the bucket or its CORS settings refuse this app.'
  if (status && status >= 500) return `Storage had a problem (${status}).`
  return error.message || 'The upload failed.'
}
