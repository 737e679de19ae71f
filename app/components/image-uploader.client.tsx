import AwsS3, { type AwsBody } from '@uppy/aws-s3'
import Uppy, { type Meta, type UppyFile } from '@uppy/core'
import Dashboard from '@uppy/react/dashboard'
import { useEffect, useRef, useState } from 'react'
import { ALLOWED_IMAGE_TYPES, formatBytes, partSizeFor, type UploaderSettings } from '~/utils/upload-limits'
import { attachThumbnails } from './thumbnails.client'
import '@uppy/core/css/style.min.css'
import '@uppy/dashboard/css/style.min.css'

type ImageMeta = Meta & { uploadRef?: string; serverKey?: string }
type ImageUppy = Uppy<ImageMeta, AwsBody>
type ImageFile = UppyFile<ImageMeta, AwsBody>
type SignInput = Parameters<
  Extract<ConstructorParameters<typeof AwsS3>[1], { signRequest: unknown }>['signRequest']
>[0]

export interface UploaderStatus {
  uploading: number
  failed: number
}

export interface ImageUploaderProps {
  settings: UploaderSettings
  /** Images already attached to the form (kept from a failed submit); they count against the limit. */
  keptCount: number
  /** The form field each finished upload's signed reference is submitted in. */
  fieldName: string
  onStatusChange: (status: UploaderStatus) => void
}

/** Delays of the automatic retries; each retry signs every request again, so an expired URL heals itself. */
const RETRY_DELAYS_MS = [1000, 3000, 6000]

class SigningError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

interface FileSnapshot {
  id: string
  name: string
  error: string | null
  ref: string | null
  key: string | null
  state: 'uploading' | 'failed' | 'done'
}

/**
 * The browser uploader: an inline Uppy Dashboard whose files go straight to S3 through URLs the server
 * signs (/uploads/sign): one PUT for small files, multipart above the threshold. Each finished upload
 * becomes a hidden input holding the server's signed reference, in the order the files were added.
 */
export default function ImageUploader({
  settings,
  keptCount,
  fieldName,
  onStatusChange,
}: ImageUploaderProps) {
  const [uppy, setUppy] = useState<ImageUppy | null>(null)
  const [files, setFiles] = useState<FileSnapshot[]>([])
  const statusCallback = useRef(onStatusChange)
  statusCallback.current = onStatusChange
  const initial = useRef({ settings, keptCount })

  useEffect(() => {
    // Created here, not in useState, so StrictMode's mount-unmount-mount destroys the instance it made.
    const { settings: s, keptCount: kept } = initial.current
    const refsByKey = new Map<string, string>()
    const instance: ImageUppy = new Uppy<ImageMeta, AwsBody>({
      autoProceed: true,
      restrictions: restrictionsFor(s, kept),
    })
    instance.use(AwsS3<ImageMeta, AwsBody>, {
      limit: s.concurrency,
      shouldUseMultipart: (file) => (file.size ?? 0) > s.multipartThresholdBytes,
      getChunkSize: ({ size }) => partSizeFor(size),
      // Uppy's requested key is only a handle for the file; the server answers with the real key.
      generateObjectKey: (file) => file.id,
      allowedMetaFields: false,
      signRequest: (request) => signRequest(instance, refsByKey, request),
    })

    // Largest files first: a big multipart file sends its parts one after another, so started last it
    // would finish long after the rest. Only the upload queue is reordered; the Dashboard and the
    // hidden inputs keep the order the admin added the files in. (Uppy re-reads the upload's file list
    // after each pre-processor.)
    instance.addPreProcessor((fileIDs, uploadID) => {
      const { currentUploads } = instance.getState()
      const upload = currentUploads[uploadID]
      if (!upload) return
      const size = (id: string) => instance.getFile(id)?.size ?? 0
      const sorted = [...fileIDs].sort((a, b) => size(b) - size(a))
      instance.setState({ currentUploads: { ...currentUploads, [uploadID]: { ...upload, fileIDs: sorted } } })
    })

    const attempts = new Map<string, number>()
    // Files waiting for an automatic retry: still "uploading" to the admin, who need not act.
    const retrying = new Set<string>()
    const timers = new Set<ReturnType<typeof setTimeout>>()
    let last = ''
    const sync = () => {
      const snapshot = instance.getFiles().map((file) => snapshotOf(file, retrying.has(file.id)))
      const serialized = JSON.stringify(snapshot)
      if (serialized === last) return
      last = serialized
      setFiles(snapshot)
      statusCallback.current({
        uploading: snapshot.filter((f) => f.state === 'uploading').length,
        failed: snapshot.filter((f) => f.state === 'failed').length,
      })
    }
    // Lifecycle events only: progress ticks arrive many times a second and change nothing here.
    for (const event of [
      'files-added',
      'file-removed',
      'upload',
      'upload-success',
      'upload-error',
      'upload-retry',
      'retry-all',
      'complete',
      'cancel-all',
    ] as const) {
      instance.on(event, () => queueMicrotask(sync))
    }
    instance.on('upload-success', (file) => file && attempts.delete(file.id))
    instance.on('upload-error', (file, error) => {
      if (!file) return
      const attempt = attempts.get(file.id) ?? 0
      const retryable = !(error instanceof SigningError) || error.status >= 500
      if (retryable && attempt < RETRY_DELAYS_MS.length) {
        attempts.set(file.id, attempt + 1)
        retrying.add(file.id)
        instance.setFileState(file.id, { error: `${describeError(error)} Retrying…` })
        queueMicrotask(sync)
        const timer = setTimeout(() => {
          timers.delete(timer)
          retrying.delete(file.id)
          if (instance.getFile(file.id)?.error) void instance.retryUpload(file.id)
          sync()
        }, RETRY_DELAYS_MS[attempt])
        timers.add(timer)
        return
      }
      instance.setFileState(file.id, { error: describeError(error) })
      queueMicrotask(sync)
    })
    instance.on('file-removed', (file) => {
      attempts.delete(file.id)
      retrying.delete(file.id)
    })
    const detachThumbnails = attachThumbnails(instance)
    setUppy(instance)
    return () => {
      for (const timer of timers) clearTimeout(timer)
      detachThumbnails()
      instance.destroy()
      setUppy(null)
    }
  }, [])

  useEffect(() => {
    uppy?.setOptions({ restrictions: restrictionsFor(settings, keptCount) })
  }, [uppy, settings, keptCount])

  return (
    <div className="uploader">
      {uppy ? (
        <Dashboard
          uppy={uppy}
          width="100%"
          height={380}
          proudlyDisplayPoweredByUppy={false}
          hideProgressDetails={false}
          showRemoveButtonAfterComplete
          hideUploadButton
          doneButtonHandler={null}
          disableThumbnailGenerator
          note={`JPEG, PNG, WebP, GIF or AVIF; up to ${settings.maxImagesPerProduct} images of ${formatBytes(settings.maxImageBytes)} each. Uploads start at once.`}
        />
      ) : (
        <p>Loading the uploader…</p>
      )}
      <ul className="upload-errors" aria-live="polite" aria-label="Upload problems">
        {files
          .filter((file) => file.error)
          .map((file) => (
            <li key={file.id}>
              <strong>{file.name}</strong>: {file.error}
            </li>
          ))}
      </ul>
      {files.map((file) =>
        file.state === 'done' && file.ref ? (
          <input
            key={file.id}
            type="hidden"
            name={fieldName}
            value={file.ref}
            data-key={file.key ?? undefined}
          />
        ) : null,
      )}
    </div>
  )
}

function restrictionsFor(settings: UploaderSettings, keptCount: number) {
  return {
    maxFileSize: settings.maxImageBytes,
    maxNumberOfFiles: Math.max(0, settings.maxImagesPerProduct - keptCount),
    allowedFileTypes: [...ALLOWED_IMAGE_TYPES],
  }
}

function snapshotOf(file: ImageFile, retrying: boolean): FileSnapshot {
  const done = Boolean(file.progress.uploadComplete) && !file.error
  return {
    id: file.id,
    name: file.name ?? 'image',
    error: file.error ?? null,
    ref: file.meta.uploadRef ?? null,
    key: file.meta.serverKey ?? null,
    state: done ? 'done' : file.error && !retrying ? 'failed' : 'uploading',
  }
}

/** Turns one request of the S3 client into a call to /uploads/sign. */
async function signRequest(uppy: ImageUppy, refsByKey: Map<string, string>, request: SignInput) {
  let body: Record<string, unknown>
  let file: ImageFile | undefined
  if ('uploadId' in request) {
    // Later requests carry the reference issued with the key: the server's proof of who started it.
    // Kept apart from the files, because the abort after a removal comes when the file is gone.
    const ref = refsByKey.get(request.key)
    if (!ref) throw new SigningError('This upload is unknown to the page; add the file again.', 400)
    const { key, uploadId } = request
    if ('partNumber' in request) {
      body = { operation: 'uploadPart', key, uploadId, ref, partNumber: request.partNumber }
    } else {
      const operation = { GET: 'listParts', POST: 'completeMultipartUpload', DELETE: 'abortMultipartUpload' }[
        request.method as 'GET' | 'POST' | 'DELETE'
      ]
      body = { operation, key, uploadId, ref }
    }
  } else if (request.method === 'PUT' || request.method === 'POST') {
    file = uppy.getFile(request.key)
    if (!file) throw new SigningError('The file was removed.', 400)
    body = {
      operation: request.method === 'PUT' ? 'putObject' : 'createMultipartUpload',
      fileName: file.name ?? 'image',
      contentType: file.type,
      size: file.size ?? 0,
    }
  } else {
    throw new SigningError(
      `The uploader asked to sign ${request.method} ${request.key}, which it never needs.`,
      400,
    )
  }
  const response = await fetch('/uploads/sign', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  }).catch(() => {
    throw new SigningError('The app could not be reached to sign the upload.', 503)
  })
  const json = (await response.json().catch(() => ({}))) as {
    url?: string
    key?: string
    headers?: Record<string, string>
    ref?: string
    error?: string
  }
  if (!response.ok || !json.url) {
    const message =
      response.status === 401
        ? 'Your session has ended: sign in again in another tab, then retry.'
        : (json.error ?? `The upload could not be signed (${response.status}).`)
    throw new SigningError(message, response.status)
  }
  if (file && json.ref && json.key) {
    refsByKey.set(json.key, json.ref)
    uppy.setFileMeta(file.id, { uploadRef: json.ref, serverKey: json.key })
  }
  return { url: json.url, key: json.key, headers: json.headers }
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
