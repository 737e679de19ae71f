import path from 'node:path'
import { migrate } from '../db/migrate'
import { migrateJobQueue } from '../app/jobs/worker.server'
import { ensureAdmin } from '../app/models/admin.server'
import { checkBucket, configureBucket, corsOriginsFor } from '../app/utils/bucket-config.server'
import { createSql } from '../app/utils/db.server'
import type { Env } from '../app/utils/env.server'
import { createS3Client, createS3ClientFromEnv } from '../app/utils/storage.server'
import { readLocalCephCredentials, startLocalCeph } from './local-ceph'
import { localPostgresUrl, startLocalPostgres } from './local-postgres'
import { isPortFree } from './processes'
import { errorMessage } from '../app/utils/errors'

export interface Services {
  /** Settings to add to the environment: the addresses and keys of the services started here. */
  overrides: Record<string, string>
  stop(): Promise<void>
}

/**
 * Starts the local PostgreSQL and Ceph RGW for whichever of DATABASE_URL and S3_ENDPOINT is unset
 * (both at once), then migrates the database, creates the admin and, for the local bucket, applies
 * the bucket configuration. A real bucket is configured with `npm run bucket:setup` instead.
 */
export async function prepareServices(
  env: Env,
  log: (line: string) => void = console.log,
): Promise<Services> {
  const dataDir = path.resolve(env.DATA_DIR)
  const stops: (() => Promise<void>)[] = []
  const stop = async () => {
    for (const s of stops.reverse())
      await s().catch((error: unknown) => log(`while stopping: ${String(error)}`))
  }
  const overrides: Record<string, string> = {}
  try {
    // Both at once; if one fails, the other is still stopped once it has started.
    const [pgResult, cephResult] = await Promise.allSettled([
      env.DATABASE_URL
        ? null
        : startLocalPostgres({
            dataDir: path.join(dataDir, 'postgres'),
            port: env.LOCAL_POSTGRES_PORT,
            database: 'product_images',
            log,
          }),
      env.S3_ENDPOINT
        ? null
        : startLocalCeph({
            dataDir: path.join(dataDir, 'ceph'),
            s3Port: env.LOCAL_S3_PORT,
            monPort: env.LOCAL_CEPH_MON_PORT,
            store: env.LOCAL_CEPH_STORE,
            log,
          }),
    ])
    for (const result of [pgResult, cephResult]) {
      if (result.status === 'fulfilled' && result.value) stops.push(result.value.stop)
    }
    for (const result of [pgResult, cephResult]) if (result.status === 'rejected') throw result.reason
    const pg = pgResult.status === 'fulfilled' ? pgResult.value : null
    const ceph = cephResult.status === 'fulfilled' ? cephResult.value : null
    if (pg) overrides.DATABASE_URL = pg.url
    if (ceph) {
      Object.assign(overrides, {
        S3_ENDPOINT: ceph.endpoint,
        S3_ACCESS_KEY_ID: ceph.accessKeyId,
        S3_SECRET_ACCESS_KEY: ceph.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
      })
    }

    const sql = createSql(overrides.DATABASE_URL ?? env.DATABASE_URL!, { max: 1 })
    try {
      const applied = await migrate(sql)
      if (applied.length > 0) log(`applied migrations: ${applied.join(', ')}`)
      await migrateJobQueue(overrides.DATABASE_URL ?? env.DATABASE_URL!)
      await ensureAdmin({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD, sql })
    } finally {
      await sql.end()
    }

    const origins = corsOriginsFor(env.APP_ORIGIN)
    if (!ceph && env.S3_ENDPOINT) {
      // A bucket we do not own: check it, and say exactly what to do when it would break uploads.
      const s3 = createS3ClientFromEnv(env)
      const problems = await checkBucket(s3, { bucket: env.S3_BUCKET, origins }).catch((error: unknown) => [
        `the bucket check itself failed: ${errorMessage(error)}`,
      ])
      s3.destroy()
      if (problems.length > 0) {
        log(
          [
            `!!! Browser uploads to bucket ${env.S3_BUCKET} will fail:`,
            ...problems.map((p) => `!!!   - ${p}`),
            `!!! Fix: run \`npm run bucket:setup\` with these settings (it prints what it changes), or give the`,
            `!!! bucket a CORS rule for ${origins.join(', ')} allowing PUT, POST, GET, DELETE, HEAD with any`,
            `!!! header (at least Content-Type and Content-MD5) and exposing ETag. /healthz reports storage status meanwhile.`,
          ].join('\n'),
        )
      }
    }
    if (ceph) {
      const s3 = createS3Client({
        endpoint: ceph.endpoint,
        region: env.S3_REGION,
        forcePathStyle: true,
        accessKeyId: ceph.accessKeyId,
        secretAccessKey: ceph.secretAccessKey,
      })
      const changes = await configureBucket(s3, {
        bucket: env.S3_BUCKET,
        origins,
        stagingExpiryDays: env.STAGING_EXPIRY_DAYS,
      })
      for (const change of changes) log(`bucket ${env.S3_BUCKET}: ${change}`)
      s3.destroy()
    }
    return { overrides, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * For commands run beside the app (npm run cleanup): use the local services a running `npm run dev` or
 * `npm start` already has, and start only what is not running.
 */
export async function connectServices(
  env: Env,
  log: (line: string) => void = console.log,
): Promise<Services> {
  const found: Record<string, string> = {}
  if (!env.DATABASE_URL && !(await isPortFree(env.LOCAL_POSTGRES_PORT))) {
    found.DATABASE_URL = localPostgresUrl(env.LOCAL_POSTGRES_PORT, 'product_images')
  }
  if (!env.S3_ENDPOINT && !(await isPortFree(env.LOCAL_S3_PORT))) {
    const keys = await readLocalCephCredentials(path.join(env.DATA_DIR, 'ceph'))
    if (keys) {
      Object.assign(found, {
        S3_ENDPOINT: `http://127.0.0.1:${env.LOCAL_S3_PORT}`,
        S3_ACCESS_KEY_ID: keys.accessKeyId,
        S3_SECRET_ACCESS_KEY: keys.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
      })
    }
  }
  const started = await prepareServices(
    {
      ...env,
      DATABASE_URL: found.DATABASE_URL ?? env.DATABASE_URL,
      S3_ENDPOINT: found.S3_ENDPOINT ?? env.S3_ENDPOINT,
    },
    log,
  )
  return { overrides: { ...found, ...started.overrides }, stop: started.stop }
}
