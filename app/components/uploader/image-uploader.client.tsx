import Dashboard from '@uppy/react/dashboard'
import { memo, useEffect, useRef, useState } from 'react'
import { formatBytes, type UploaderSettings } from '~/uploads/limits'
import { ALLOWED_TYPES_LABEL } from '~/uploads/image-types'
import { attachThumbnails } from './thumbnails.client'
import {
  attachRetryPolicy,
  createImageUppy,
  restrictionsFor,
  type ImageFile,
  type ImageUppy,
} from './image-uppy.client'
import '@uppy/core/css/style.min.css'
import '@uppy/dashboard/css/style.min.css'
import type { UploaderStatus } from './upload-status'

export interface ImageUploaderProps {
  settings: UploaderSettings
  /** Images the form already has (saved ones not ticked for removal, staged ones kept from a failed
   * submit); they count against the limit. */
  keptCount: number
  /** The form field each finished upload's signed reference is submitted in. */
  fieldName: string
  onStatusChange: (status: UploaderStatus) => void
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
 * Memoised: the form's own renders need not reach the Dashboard.
 */
export default memo(function ImageUploader({
  settings,
  keptCount,
  fieldName,
  onStatusChange,
}: ImageUploaderProps) {
  const statusCallback = useRef(onStatusChange)
  statusCallback.current = onStatusChange
  const kept = useRef(keptCount)
  kept.current = keptCount
  const container = useRef<HTMLDivElement>(null)
  const uppy = useImageUppy(settings, kept, container)
  const { files, finished } = useFileSnapshots(uppy, statusCallback)

  useEffect(() => {
    uppy?.setOptions({ restrictions: restrictionsFor(settings, keptCount) })
  }, [uppy, settings, keptCount])

  return (
    <div className="uploader" ref={container}>
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
          note={`${ALLOWED_TYPES_LABEL}; up to ${settings.maxImagesPerProduct} images of ${formatBytes(settings.maxImageBytes)} each. Uploads start at once.`}
        />
      ) : (
        <p>Loading the uploader…</p>
      )}
      <OfflineNotice />
      <ul className="upload-errors" aria-live="polite" aria-label="Upload problems">
        {files
          .filter((file) => file.error)
          .map((file) => (
            <li key={file.id}>
              <strong>{file.name}</strong>: {file.error}
            </li>
          ))}
      </ul>
      {finished.map((file) => (
        <input
          key={file.id}
          type="hidden"
          name={fieldName}
          value={file.ref}
          data-key={file.key ?? undefined}
        />
      ))}
    </div>
  )
})

/**
 * Says that the browser is offline, for as long as it is (Uppy's own notice, given no duration, hides
 * at once in Uppy 6). The uploads wait meanwhile (attachRetryPolicy) and go on when it is back.
 */
function OfflineNotice() {
  const [offline, setOffline] = useState(false)
  useEffect(() => {
    const update = () => setOffline(navigator.onLine === false)
    update()
    window.addEventListener('online', update)
    window.addEventListener('offline', update)
    return () => {
      window.removeEventListener('online', update)
      window.removeEventListener('offline', update)
    }
  }, [])
  return (
    <p className="offline-notice" role="status" hidden={!offline}>
      {offline ? 'You are offline. The uploads wait, and go on by themselves once the network is back.' : ''}
    </p>
  )
}

/**
 * The form's Uppy instance, made once per mount (not in useState, so StrictMode's mount-unmount-mount
 * destroys the instance it made) with its thumbnails; null until then.
 */
function useImageUppy(
  settings: UploaderSettings,
  kept: { current: number },
  container: { current: HTMLElement | null },
) {
  const [uppy, setUppy] = useState<ImageUppy | null>(null)
  const initial = useRef(settings)
  useEffect(() => {
    const instance = createImageUppy(initial.current, () => kept.current)
    const detachThumbnails = container.current
      ? attachThumbnails(instance, container.current, (meta) => meta.uploadRef)
      : () => {}
    setUppy(instance)
    return () => {
      detachThumbnails()
      instance.destroy()
      setUppy(null)
    }
  }, [kept, container])
  return uppy
}

/**
 * What the form shows of the files (errors, and the hidden inputs of the `finished` ones) and tells its
 * parent (uploading, failed), updated on Uppy's lifecycle events only: progress ticks arrive many times a
 * second and change nothing here. A file waiting for an automatic retry (attachRetryPolicy) still counts
 * as uploading.
 *
 * Finished uploads join the form together, once nothing is uploading (the form cannot be saved before
 * then): each new field makes Conform read the whole form again (a FormData and its parse), which once per
 * file competed with the uploads still going. A removed file leaves the form at once.
 */
function useFileSnapshots(uppy: ImageUppy | null, onStatus: { current: (status: UploaderStatus) => void }) {
  const [snapshots, setSnapshots] = useState<{ files: FileSnapshot[]; finished: FinishedFile[] }>({
    files: [],
    finished: [],
  })
  useEffect(() => {
    if (!uppy) return
    let last = ''
    let finished: FinishedFile[] = []
    const sync = () => {
      const files = uppy.getFiles().map((file) => snapshotOf(file, retries.retrying.has(file.id)))
      const uploading = files.filter((f) => f.state === 'uploading').length
      const present = new Set(files.map((f) => f.id))
      finished = uploading === 0 ? files.filter(isFinished) : finished.filter((f) => present.has(f.id))
      const serialized = JSON.stringify([files, finished.map((f) => f.id)])
      if (serialized === last) return
      last = serialized
      setSnapshots({ files, finished })
      onStatus.current({ uploading, failed: files.filter((f) => f.state === 'failed').length })
    }
    const retries = attachRetryPolicy(uppy, sync)
    const later = () => queueMicrotask(sync)
    const events = [
      'files-added',
      'file-removed',
      'upload',
      'upload-success',
      'upload-error',
      'upload-retry',
      'retry-all',
      'complete',
      'cancel-all',
    ] as const
    for (const event of events) uppy.on(event, later)
    return () => {
      for (const event of events) uppy.off(event, later)
      retries.detach()
    }
  }, [uppy, onStatus])
  return snapshots
}

type FinishedFile = FileSnapshot & { state: 'done'; ref: string }

function isFinished(file: FileSnapshot): file is FinishedFile {
  return file.state === 'done' && file.ref !== null
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
