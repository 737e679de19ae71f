/**
 * npm run bench: runs every benchmark against fresh local services and prints one table.
 * Medians of several runs; the goals are the product's targets, not test assertions.
 *   npm run bench -- form browser signing listing images heic presign streaming thumbnails     (a subset, by name)
 */
import { benchBrowserBatch } from './browser-batch'
import { benchFormUpload } from './form-upload'
import { benchHeic } from './heic'
import { benchImages } from './images'
import { benchListing } from './listing'
import { benchPresign } from './presign'
import { benchSigning } from './signing'
import { benchStreaming } from './streaming'
import { benchThumbnails } from './thumbnails'
import { printTable, type Row } from './support'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
// The benchmarks delete what they upload between runs. The local Ceph keeps objects in memory (8 GiB),
// and RGW frees a deleted object's data two hours later by default; with this, within seconds.
process.env.LOCAL_CEPH_GC_SECONDS ??= '1'
const benches = {
  form: benchFormUpload,
  browser: benchBrowserBatch,
  signing: benchSigning,
  listing: benchListing,
  images: benchImages,
  heic: benchHeic,
  presign: benchPresign,
  streaming: benchStreaming,
  thumbnails: benchThumbnails,
}
const chosen = process.argv.slice(2).filter((name): name is keyof typeof benches => name in benches)
const rows: Row[] = []
for (const [name, bench] of Object.entries(benches)) {
  if (chosen.length > 0 && !chosen.includes(name as keyof typeof benches)) continue
  console.log(`running ${name}…`)
  rows.push(...(await bench()))
}
console.log()
printTable(rows)
