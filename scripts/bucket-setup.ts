/**
 * Applies the bucket configuration the app needs (private, CORS for APP_ORIGIN, staging lifecycle)
 * to the bucket named by S3_BUCKET at S3_ENDPOINT, and prints what it changed.
 *   npm run bucket:setup
 */
import { existsSync } from 'node:fs'
import { configureBucket, corsOriginsFor } from '../app/utils/bucket-config.server'
import { parseEnv } from '../app/utils/env.server'
import { createS3ClientFromEnv } from '../app/utils/storage.server'
import { errorMessage } from '../app/utils/errors'

if (existsSync('.env')) process.loadEnvFile('.env')
const env = parseEnv(process.env)
if (!env.S3_ENDPOINT) {
  console.log('S3_ENDPOINT is unset: the local Ceph bucket is configured every time the app starts.')
  process.exit(0)
}
const origins = corsOriginsFor(env.APP_ORIGIN)
const s3 = createS3ClientFromEnv(env)
try {
  const changes = await configureBucket(s3, {
    bucket: env.S3_BUCKET,
    origins,
    stagingExpiryDays: env.STAGING_EXPIRY_DAYS,
    region: env.S3_REGION,
  })
  if (changes.length === 0)
    console.log(`Bucket ${env.S3_BUCKET} already has the configuration the app needs.`)
  for (const change of changes) console.log(`${env.S3_BUCKET}: ${change}`)
} catch (error) {
  console.error(`Could not configure bucket ${env.S3_BUCKET} at ${env.S3_ENDPOINT}: ${errorMessage(error)}`)
  process.exitCode = 1
}
