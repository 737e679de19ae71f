/**
 * The app's own uploader without its Dashboard, for the uploader benchmark: the same Uppy instance the
 * form makes (createImageUppy: signing ahead, multipart with parallel parts, retries, checks), with no
 * UI, no thumbnails and no progress shown. What the Dashboard costs is the difference.
 */
import { createImageUppy } from '~/components/uploader/image-uppy.client'
import type { UploaderSettings } from '~/uploads/limits'

declare global {
  interface Window {
    startHeadlessUploader: (settings: UploaderSettings) => ReturnType<typeof createImageUppy>
  }
}

window.startHeadlessUploader = (settings) => createImageUppy(settings, () => 0)
