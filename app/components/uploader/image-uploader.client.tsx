import AwsS3, { type AwsBody } from '@uppy/aws-s3'
import Uppy, { type Meta, type UppyFile } from '@uppy/core'
import Dashboard from '@uppy/react/dashboard'
import { useEffect, useRef, useState } from 'react'
import { formatBytes, partSizeFor, type UploaderSettings } from '~/uploads/limits'
import { ALLOWED_IMAGE_TYPES } from '~/uploads/image-types'
import { attachThumbnails } from './thumbnails.client'
import { SigningError, UploadSigner } from './signer.client'
import '@uppy/core/css/style.min.css'
import '@uppy/dashboard/css/style.min.css'

type ImageMeta = Meta & { uploadRef?: string; serverKey?: string }
type ImageUppy = Uppy<ImageMeta, AwsBody>
type ImageFile = UppyFile<ImageMeta, AwsBody>

export interface UploaderStatus {
  uploading: number
  failed: number
}

export interface ImageUploaderProps {
  settings: UploaderSettings
  /** Images the form already has (saved ones not ticked for removal, staged ones kept from a failed
   * submit); they count against the limit. */
  keptCount: number
  /** The form field each finished upload's signed reference is submitted in. */
  fieldName: string
  onStatusChange: (status: UploaderStatus) => void
}

/** Delays of the automatic retries; each retry signs every request again, so an expired URL heals itself. */
const RETRY_DELAYS_MS = [1000, 3000, 6000]

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
  const kept = useRef(keptCount)
  kept.current = keptCount
  const initial = useRef({ settings })

  useEffect(() => {
    // Created here, not in useState, so StrictMode's mount-unmount-mount destroys the instance it made.
    const { settings: s } = initial.current
    const signer = new UploadSigner(s.urlTtlSeconds * 1000)
    const multipart = (file: ImageFile) => (file.size ?? 0) > s.multipartThresholdBytes
    const instance: ImageUppy = new Uppy<ImageMeta, AwsBody>({
      autoProceed: true,
      restrictions: restrictionsFor(s, kept.current),
      // Uppy reads a maxNumberOfFiles of 0 as "no limit", so a form that is already full refuses here.
      onBeforeFileAdded: () => {
        if (kept.current < s.maxImagesPerProduct) return true
        instance.info(
          `A product has at most ${s.maxImagesPerProduct} images; remove one to add another.`,
          'error',
          5000,
        )
        return false
      },
    })
    instance.use(AwsS3<ImageMeta, AwsBody>, {
      limit: s.concurrency,
      shouldUseMultipart: multipart,
      // The connections the files in flight leave free go to the multipart files' parts (patched in,
      // see patches/README.md): one large file alone uses every connection, a full queue one each.
      getPartConcurrency: () => {
        const active = instance
          .getFiles()
          .filter(
            (file) =>
              file.progress.uploadStarted && !file.progress.uploadComplete && !file.error && !file.isPaused,
          )
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
        const answer = await signer.sign(
          request,
          file && { id: file.id, name: file.name ?? 'image', type: file.type, size: file.size ?? 0 },
        )
        if (file && answer.ref && answer.key)
          instance.setFileMeta(file.id, { uploadRef: answer.ref, serverKey: answer.key })
        return { url: answer.url, key: answer.key, headers: answer.headers }
      },
    })
    // Every file of a drop is signed in one round trip, before its turn in the queue comes.
    instance.on('files-added', (added) =>
      signer.signAhead(
        added.map((file) => ({
          id: file.id,
          name: file.name ?? 'image',
          type: file.type,
          size: file.size ?? 0,
          multipart: multipart(file),
        })),
      ),
    )

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
    instance.on('upload-success', (file) => {
      if (!file) return
      attempts.delete(file.id)
      // The server checks the upload and starts making its variants now, while the admin types; what
      // it finds wrong the save reports with the rest of the form, so the answer is not awaited.
      const ref = instance.getFile(file.id)?.meta.uploadRef
      if (ref) startProcessing(ref)
    })
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

function startProcessing(ref: string) {
  fetch('/uploads/check', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ref }),
  }).catch(() => {})
}
