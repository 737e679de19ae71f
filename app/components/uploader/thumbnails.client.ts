import type { Body, Meta, Uppy } from '@uppy/core'
import type { ThumbnailAnswer, ThumbnailRequest } from './thumbnails.worker'

const THUMBNAIL_WIDTH = 240
/** Bigger files get the Dashboard's file icon: decoding them would compete with their own upload. */
const MAX_SOURCE_BYTES = 32 * 1024 * 1024
/** Previews reach Uppy together, at most this often: each state change re-renders the whole Dashboard. */
const FLUSH_MS = 200
/** How long the page waits for the server's thumbnail of a file it cannot decode (a HEIC outside Safari). */
const SERVER_PREVIEW_MS = 5 * 60_000
const SERVER_PREVIEW_ENDPOINT = '/uploads/preview'

/**
 * Thumbnails for the Dashboard, made only for the files whose rows are in view in its list (more as the
 * admin scrolls it), one at a time, in a Web Worker: the page's main thread only hands over the file and
 * shows the result. Uppy's own generator loads each file whole as an
 * <img> and scales it on the main thread, for every file dropped. A file the browser cannot decode (a
 * HEIC outside Safari) shows the server's smallest variant instead, once its upload is finished and
 * checked (`refOf` gives its reference). `root` holds the Dashboard. Returns a cleanup function.
 */
export function attachThumbnails<M extends Meta, B extends Body>(
  uppy: Uppy<M, B>,
  root: HTMLElement,
  refOf: (meta: M) => string | undefined = () => undefined,
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
    } else if (uppy.getFile(data.id)) {
      fromServer.add(data.id)
      askServer(data.id)
    }
    next()
  }

  // Files whose thumbnail the server makes: asked for once uploaded, again as Retry-After says, until
  // the variant exists, processing failed, or SERVER_PREVIEW_MS passed.
  const fromServer = new Set<string>()
  const polls = new Map<string, ReturnType<typeof setTimeout>>()
  const asking = new Set<string>()
  const askServer = (id: string, since = Date.now()) => {
    const file = uppy.getFile(id)
    const ref = file && refOf(file.meta)
    if (!file || !ref || !file.progress.uploadComplete || polls.has(id) || asking.has(id)) return
    const again = (seconds: number) => {
      if (Date.now() - since > SERVER_PREVIEW_MS) return
      polls.set(
        id,
        setTimeout(() => {
          polls.delete(id)
          askServer(id, since)
        }, seconds * 1000),
      )
    }
    asking.add(id)
    fetch(`${SERVER_PREVIEW_ENDPOINT}?ref=${encodeURIComponent(ref)}`, { credentials: 'same-origin' })
      .then(async (response) => {
        asking.delete(id)
        const answer = (await response.json().catch(() => ({}))) as { status?: string; url?: string }
        if (answer.status === 'ready' && answer.url && uppy.getFile(id)) {
          ready.set(id, answer.url)
          flushTimer ??= setTimeout(flush, FLUSH_MS)
        } else if (answer.status === 'pending' || response.status >= 500) {
          again(Math.min(10, Math.max(1, Number(response.headers.get('Retry-After')) || 2)))
        }
      })
      .catch(() => {
        asking.delete(id)
        again(5)
      })
  }
  const onUploaded = (file: { id: string } | undefined) => {
    if (file && fromServer.has(file.id)) askServer(file.id)
  }
  uppy.on('upload-success', onUploaded)

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
    fromServer.delete(file.id)
    clearTimeout(polls.get(file.id))
    polls.delete(file.id)
  }
  uppy.on('file-removed', onRemoved)
  return () => {
    clearTimeout(flushTimer)
    for (const timer of polls.values()) clearTimeout(timer)
    uppy.off('upload-success', onUploaded)
    rows.disconnect()
    visible?.disconnect()
    worker.terminate()
    uppy.off('file-removed', onRemoved)
    for (const url of urls.values()) URL.revokeObjectURL(url)
  }
}
