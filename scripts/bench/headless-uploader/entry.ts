/**
 * The app's own uploader without its Dashboard, for the uploader benchmark: the same Uppy instance the
 * form makes (createImageUppy: digests, signing ahead, multipart with parallel parts, retries, checks),
 * with no UI, no thumbnails and no progress shown. What the Dashboard costs is the difference; with
 * `digests: false`, what hashing costs. `benchDigestRate` hashes files with the uploader's own digest
 * worker, one after another, for the rate of one core.
 */
import { FileDigests } from '~/components/uploader/digest.client'
import { createImageUppy } from '~/components/uploader/image-uppy.client'
import type { UploaderSettings } from '~/uploads/limits'

declare global {
  interface Window {
    startHeadlessUploader: (
      settings: UploaderSettings,
      options?: { digests?: boolean },
    ) => ReturnType<typeof createImageUppy>
    benchDigestRate: (files: Blob[]) => Promise<{ bytes: number; ms: number }>
  }
}

window.startHeadlessUploader = (settings, options) => createImageUppy(settings, () => 0, options)

window.benchDigestRate = async (files) => {
  const digests = new FileDigests()
  // The worker's start and WebAssembly compile are not part of the rate.
  await digests.digest('warm-up', new Blob([new Uint8Array(1024)]), 0, 1024)
  const started = performance.now()
  for (const [i, file] of files.entries()) await digests.digest(`file:${i}`, file, 0, file.size)
  const ms = performance.now() - started
  digests.dispose()
  return { bytes: files.reduce((sum, file) => sum + file.size, 0), ms }
}
