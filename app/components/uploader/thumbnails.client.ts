import type { Body, Meta, Uppy } from '@uppy/core'
import type { ThumbnailAnswer, ThumbnailRequest } from './thumbnails.worker'

const THUMBNAIL_WIDTH = 240
/** Bigger files get the Dashboard's file icon: decoding them would compete with their own upload. */
const MAX_SOURCE_BYTES = 32 * 1024 * 1024
/** Previews reach Uppy together, at most this often: each state change re-renders the whole Dashboard. */
const FLUSH_MS = 200

/**
 * Thumbnails for the Dashboard, made only for the files whose rows are in view in its list (more as the
 * admin scrolls it), one at a time, in a Web Worker: the page's main thread only hands over the file and
 * shows the result. Uppy's own generator loads each file whole as an
 * <img> and scales it on the main thread, for every file dropped. `root` holds the Dashboard. Returns a
 * cleanup function.
 */
export function attachThumbnails<M extends Meta, B extends Body>(
  uppy: Uppy<M, B>,
  root: HTMLElement,
): () => void {
  if (typeof Worker === 'undefined' || typeof OffscreenCanvas === 'undefined') return () => {}
  const worker = new Worker(new URL('./thumbnails.worker.ts', import.meta.url), { type: 'module' })
  const urls = new Map<string, string>()
  /** Files asked for, or done: each file is decoded once at most. */
  const asked = new Set<string>()
  const queue: string[] = []
  let busy = false

  const ready = new Map<string, string>()
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  const flush = () => {
    flushTimer = undefined
    const { files } = uppy.getState()
    const updated = { ...files }
    for (const [id, preview] of ready) {
      const file = files[id]
      if (file) updated[id] = { ...file, preview }
    }
    ready.clear()
    uppy.setState({ files: updated })
  }

  const next = () => {
    if (busy) return
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const file = uppy.getFile(id)
      if (!file || !(file.data instanceof Blob)) continue
      busy = true
      worker.postMessage({ id, file: file.data, width: THUMBNAIL_WIDTH } satisfies ThumbnailRequest)
      return
    }
  }
  worker.onmessage = ({ data }: MessageEvent<ThumbnailAnswer>) => {
    busy = false
    if (data.blob && uppy.getFile(data.id)) {
      const url = URL.createObjectURL(data.blob)
      urls.set(data.id, url)
      ready.set(data.id, url)
      flushTimer ??= setTimeout(flush, FLUSH_MS)
    }
    next()
  }

  // A row in the Dashboard's list box (scrolled into it) asks for its file's thumbnail. The list is
  // made when the first file is added; the Dashboard adds and removes rows as it scrolls, and each new
  // row is watched.
  const onVisible = (entries: IntersectionObserverEntry[]) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue
      const id = entry.target.id.replace(/^uppy_/, '')
      const file = uppy.getFile(id)
      if (!file || asked.has(id)) continue
      asked.add(id)
      if ((file.size ?? 0) <= MAX_SOURCE_BYTES && file.type.startsWith('image/')) queue.push(id)
    }
    next()
  }
  let list: Element | null = null
  let visible: IntersectionObserver | null = null
  let watched = new WeakSet<Element>()
  const watchRows = () => {
    const current = root.querySelector('.uppy-Dashboard-files')
    if (current !== list) {
      visible?.disconnect()
      list = current
      visible = list ? new IntersectionObserver(onVisible, { root: list }) : null
      watched = new WeakSet()
    }
    if (!visible) return
    for (const row of root.querySelectorAll('.uppy-Dashboard-Item[id^="uppy_"]')) {
      if (watched.has(row)) continue
      watched.add(row)
      visible.observe(row)
    }
  }
  const rows = new MutationObserver(watchRows)
  rows.observe(root, { childList: true, subtree: true })
  watchRows()

  const onRemoved = (file: { id: string }) => {
    const url = urls.get(file.id)
    if (url) URL.revokeObjectURL(url)
    urls.delete(file.id)
    asked.delete(file.id)
  }
  uppy.on('file-removed', onRemoved)
  return () => {
    clearTimeout(flushTimer)
    rows.disconnect()
    visible?.disconnect()
    worker.terminate()
    uppy.off('file-removed', onRemoved)
    for (const url of urls.values()) URL.revokeObjectURL(url)
  }
}
