/**
 * Uppy 6 as its documentation sets it up, for the uploader benchmark: an inline Dashboard (its own
 * thumbnail generator on) and @uppy/aws-s3 with its defaults (6 files at a time, multipart above
 * 100 MiB, parts one after another), unpatched (npm aliases of the same versions the app pins; the
 * benchmark bundles `@uppy/core` as `uppy-core-stock`), and a plain signing endpoint asked once per
 * request. Bundled by the benchmark and put into the page.
 */
import Uppy from '@uppy/core'
import AwsS3 from 'uppy-aws-s3-stock'
import Dashboard from 'uppy-dashboard-stock'

declare global {
  interface Window {
    startStockUppy: (target: string, signEndpoint: string) => Uppy
  }
}

window.startStockUppy = (target, signEndpoint) =>
  new Uppy({ autoProceed: true }).use(Dashboard, { inline: true, target }).use(AwsS3, {
    signRequest: async (request) => {
      const query = new URLSearchParams(
        Object.entries(request).flatMap(([name, value]) => (value == null ? [] : [[name, String(value)]])),
      )
      const response = await fetch(`${signEndpoint}?${query}`)
      if (!response.ok) throw new Error(`signing answered ${response.status}`)
      return response.json()
    },
  })
