/**
 * npm run images:reprocess [-- --product <id>]
 * Remakes the variants of every saved image (or one product's) whose variants were made with another
 * variant set (see app/images/variants.ts), or never. Images already made with the current set are skipped, so an
 * interrupted run (Ctrl-C finishes the images in hand) resumes where it stopped. Safe beside running
 * workers: an image one of them holds is left to it.
 */
import { existsSync } from 'node:fs'
import { SingleBar, Presets } from 'cli-progress'
import { ImageBusyError, processImage } from '../app/images/process-job.server'
import { VARIANT_VERSION } from '../app/images/variants'
import { countOutdatedProcessing, outdatedProcessing } from '../app/models/image-processing.server'
import { closeSql } from '../app/utils/db.server'
import { errorMessage } from '../app/utils/errors'
import { parseEnv } from '../app/utils/env.server'
import { isUuid } from '../app/utils/product-schema'
import { connectServices } from '../server/services'

if (existsSync('.env') && process.env.SKIP_ENV_FILE !== '1') process.loadEnvFile('.env')
const services = await connectServices(parseEnv(process.env), () => {})
Object.assign(process.env, services.overrides)
const env = parseEnv(process.env)
const productArg = process.argv.indexOf('--product')
const productId = productArg > 0 ? (process.argv[productArg + 1] ?? '') : null
if (productId !== null && !isUuid(productId)) {
  console.error('--product takes a product id (a UUID).')
  process.exit(1)
}

let stopping = false
process.once('SIGINT', () => {
  stopping = true
  console.error('\nStopping after the images in hand; run the command again to carry on.')
})

const total = await countOutdatedProcessing(VARIANT_VERSION, productId)
const tally = { processed: 0, failed: 0, skipped: 0 }
const failures: string[] = []
const bar = new SingleBar(
  {
    format: 'Reprocessing {bar} {value}/{total} images | {eta_formatted} left | {failed} failed',
    noTTYOutput: true,
    notTTYSchedule: 5_000,
  },
  Presets.shades_classic,
)
console.log(`${total} images to process with variant set ${VARIANT_VERSION}.`)
bar.start(total, 0, { failed: 0 })
let after: string | null = null
try {
  while (!stopping) {
    const page = await outdatedProcessing({ version: VARIANT_VERSION, productId, after, limit: 50 })
    if (page.length === 0) break
    after = page.at(-1)!.id
    // One more than the processing slots, so the next image is read while one is decoded.
    for (let i = 0; i < page.length && !stopping; i += env.IMAGE_PROCESSING_CONCURRENCY + 1) {
      const batch = page.slice(i, i + env.IMAGE_PROCESSING_CONCURRENCY + 1)
      await Promise.all(
        batch.map(async ({ id }) => {
          try {
            const outcome = await processImage(id, { final: true })
            if (outcome === 'processed') tally.processed++
            else if (outcome === 'failed') {
              tally.failed++
              failures.push(id)
            } else tally.skipped++
          } catch (error) {
            if (!(error instanceof ImageBusyError)) failures.push(`${id}: ${errorMessage(error)}`)
            tally.skipped++
          }
          bar.increment(1, { failed: tally.failed })
        }),
      )
    }
  }
} finally {
  bar.stop()
  await closeSql()
  await services.stop()
}
console.log(
  `Processed ${tally.processed}, failed ${tally.failed} (their pages say why), skipped ${tally.skipped} ` +
    `(held by a worker or already done).`,
)
for (const line of failures.slice(0, 20)) console.log(`  ${line}`)
if (stopping) process.exitCode = 130
