/** The Dashboard's thumbnail decoding, for the thumbnail benchmark. */
import { thumbnailBitmap } from '~/components/uploader/thumbnail-bitmap.client'

declare global {
  interface Window {
    thumbnailBitmap: typeof thumbnailBitmap
  }
}

window.thumbnailBitmap = thumbnailBitmap
