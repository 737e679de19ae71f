/// <reference lib="webworker" />
import { thumbnailBitmap } from './thumbnail-bitmap.client'
/**
 * Makes one Dashboard thumbnail per message, off the page's main thread: decodes the file scaled down
 * (thumbnailBitmap), draws it on an OffscreenCanvas and encodes a small JPEG.
 * Answers `{ id, blob }`, or `{ id, blob: null }` when the file cannot be decoded here.
 */
export type ThumbnailRequest = { id: string; file: Blob; width: number }
export type ThumbnailAnswer = { id: string; blob: Blob | null }

const scope = self as unknown as DedicatedWorkerGlobalScope

scope.onmessage = async ({ data }: MessageEvent<ThumbnailRequest>) => {
  let blob: Blob | null = null
  try {
    const bitmap = await thumbnailBitmap(data.file, data.width)
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height)
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0)
    bitmap.close()
    blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 })
  } catch {
    // Not decodable here (or not an image at all): the Dashboard keeps its file icon.
  }
  scope.postMessage({ id: data.id, blob } satisfies ThumbnailAnswer)
}
