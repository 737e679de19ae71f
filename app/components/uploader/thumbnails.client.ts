import type { Body, Meta, Uppy } from '@uppy/core'

const THUMBNAIL_WIDTH = 240
/** Bigger files get the Dashboard's file icon: decoding them would compete with their own upload. */
const MAX_SOURCE_BYTES = 32 * 1024 * 1024

/**
 * Thumbnails for the Dashboard, made with createImageBitmap's resize-on-decode, one file at a time.
 * Uppy's own generator loads each file whole as an <img> and downscales on the main thread, which
 * on a modest machine took as long as the uploads it was showing. Returns a cleanup function.
 */
export function attachThumbnails<M extends Meta, B extends Body>(uppy: Uppy<M, B>): () => void {
  const queue: string[] = []
  const urls = new Map<string, string>()
  let running = false
  let stopped = false

  // Previews are handed to Uppy a few at a time: each state change re-renders the whole Dashboard,
  // which competes with the uploads for the main thread.
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
  const showLater = (id: string, url: string) => {
    ready.set(id, url)
    flushTimer ??= setTimeout(flush, 200)
  }

  const next = async () => {
    if (running || stopped) return
    running = true
    while (queue.length > 0 && !stopped) {
      const file = uppy.getFile(queue.shift()!)
      if (!file || !(file.data instanceof Blob)) continue
      try {
        const bitmap = await createImageBitmap(file.data, {
          resizeWidth: THUMBNAIL_WIDTH,
          resizeQuality: 'medium',
        })
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height)
        canvas.getContext('2d')!.drawImage(bitmap, 0, 0)
        bitmap.close()
        const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 })
        if (stopped || !uppy.getFile(file.id)) continue
        const url = URL.createObjectURL(blob)
        urls.set(file.id, url)
        showLater(file.id, url)
      } catch {
        // Not decodable here (or not an image at all): the Dashboard shows its file icon.
      }
    }
    running = false
  }

  const onAdded = (files: { id: string; size: number | null; type: string }[]) => {
    for (const file of files) {
      if ((file.size ?? 0) <= MAX_SOURCE_BYTES && file.type.startsWith('image/')) queue.push(file.id)
    }
    void next()
  }
  const onRemoved = (file: { id: string }) => {
    const url = urls.get(file.id)
    if (url) URL.revokeObjectURL(url)
    urls.delete(file.id)
  }
  uppy.on('files-added', onAdded)
  uppy.on('file-removed', onRemoved)
  return () => {
    stopped = true
    clearTimeout(flushTimer)
    uppy.off('files-added', onAdded)
    uppy.off('file-removed', onRemoved)
    for (const url of urls.values()) URL.revokeObjectURL(url)
  }
}
