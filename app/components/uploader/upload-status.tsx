import { useEffect, useState, type ComponentProps } from 'react'

export interface UploaderStatus {
  /** Files going up, or waiting for an automatic retry. */
  uploading: number
  /** Files that failed for good: the admin retries or removes them. */
  failed: number
}

const IDLE: UploaderStatus = { uploading: 0, failed: 0 }

/**
 * The uploader's status, kept outside React state: the uploader sets it as files start, finish and
 * fail, and only what shows it (the status line, the save buttons) renders again, not the whole form.
 */
export class UploaderStatusStore {
  #status = IDLE
  #listeners = new Set<() => void>()
  get = () => this.#status
  set = (status: UploaderStatus) => {
    if (status.uploading === this.#status.uploading && status.failed === this.#status.failed) return
    this.#status = status
    for (const listener of this.#listeners) listener()
  }
  subscribe = (listener: () => void) => {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }
}

/** A store for the life of the component. */
export function useUploaderStatusStore() {
  return useState(() => new UploaderStatusStore())[0]
}

/**
 * The store's status, as React state: a change renders with the uploader's own update of the same
 * moment, in one commit (useSyncExternalStore would commit it apart, at once).
 */
export function useUploaderStatus(store: UploaderStatusStore) {
  const [status, setStatus] = useState(store.get)
  useEffect(() => {
    setStatus(store.get())
    return store.subscribe(() => setStatus(store.get()))
  }, [store])
  return status
}

/** The line that says what is still uploading or has failed, announced politely as it changes. */
export function UploadStatusLine({ store }: { store: UploaderStatusStore }) {
  return (
    <p className="upload-status" id="upload-status" role="status" aria-live="polite">
      {describeStatus(useUploaderStatus(store))}
    </p>
  )
}

/** A submit button, disabled while the form is submitting and while any image is uploading or failed. */
export function SaveButton({
  store,
  submitting,
  ...props
}: { store: UploaderStatusStore; submitting: boolean } & ComponentProps<'button'>) {
  const { uploading, failed } = useUploaderStatus(store)
  return <button type="submit" {...props} disabled={submitting || uploading > 0 || failed > 0} />
}

function describeStatus({ uploading, failed }: UploaderStatus) {
  const parts = []
  if (uploading > 0) parts.push(`${uploading} ${uploading === 1 ? 'image is' : 'images are'} still uploading`)
  if (failed > 0)
    parts.push(
      `${failed} ${failed === 1 ? 'image' : 'images'} failed: retry or remove ${failed === 1 ? 'it' : 'them'}`,
    )
  return parts.length > 0 ? `${parts.join('; ')}. You can save once every image is uploaded.` : ''
}
