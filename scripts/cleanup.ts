/**
 * npm run cleanup [-- --older-than-hours N]
 * Removes unattached staging uploads older than STAGING_EXPIRY_DAYS (or N hours): objects, incomplete
 * multipart uploads and their records; also forgets the idempotency keys of edits saved before then. Safe to run from several machines at once, and beside the app.
 */
import { existsSync } from 'node:fs'
import { forgetAppliedEdits } from '../app/models/product-edits.server'
import { drainStorageDeletions } from '../app/models/storage-deletion.server'
import { cleanupStaging } from '../app/utils/cleanup.server'
import { createSql } from '../app/utils/db.server'
import { parseEnv } from '../app/utils/env.server'
import { createS3ClientFromEnv } from '../app/utils/storage.server'
import { connectServices } from '../server/services'
import { errorMessage } from '../app/utils/errors'

if (existsSync('.env')) process.loadEnvFile('.env')
let env = parseEnv(process.env)
const hoursArg = process.argv.indexOf('--older-than-hours')
const hours = hoursArg > 0 ? Number(process.argv[hoursArg + 1]) : env.STAGING_EXPIRY_DAYS * 24
if (!Number.isFinite(hours) || hours < 0) {
  console.error('--older-than-hours takes a number of hours (0 or more).')
  process.exit(1)
}
const services = await connectServices(env, () => {})
env = parseEnv({ ...process.env, ...services.overrides })
const sql = createSql(env.DATABASE_URL!, { max: 2 })
const s3 = createS3ClientFromEnv(env)
try {
  const report = await cleanupStaging({ s3, bucket: env.S3_BUCKET, sql, olderThanMs: hours * 3_600_000 })
  const deletions = await drainStorageDeletions({ sql, s3, bucket: env.S3_BUCKET })
  const edits = await forgetAppliedEdits({ sql, olderThanMs: hours * 3_600_000 })
  console.log(
    `Queued deletions: ${deletions.deleted} done${deletions.failed ? `, ${deletions.failed} still failing (${deletions.error})` : ''}.`,
  )
  console.log(
    `Staging older than ${hours} h: deleted ${report.deletedObjects} objects, aborted ${report.abortedUploads} ` +
      `multipart uploads, forgot ${report.forgottenUploads} upload records and ${edits} saved-edit keys.`,
  )
} catch (error) {
  console.error(`Cleanup failed: ${errorMessage(error)}`)
  process.exitCode = 1
} finally {
  s3.destroy()
  await sql.end()
  await services.stop()
}
