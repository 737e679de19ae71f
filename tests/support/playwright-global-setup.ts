import type { FullConfig } from '@playwright/test'
import { configureBucket } from '../../app/utils/bucket-config.server'
import { startAppServer, type AppServer } from './app-server'
import { startTestServices, s3ClientFor } from './services'

/**
 * Real PostgreSQL, real Ceph RGW and the production build of the app, for every spec; plus a second
 * app server on the same services whose upload URLs live two seconds, for the expiry test.
 */
export default async function globalSetup(_config: FullConfig) {
  const port = Number(process.env.E2E_PORT)
  const shortTtlPort = Number(process.env.E2E_SHORT_TTL_PORT)
  const services = await startTestServices(port)
  const { env } = services
  const s3 = s3ClientFor(env)
  await configureBucket(s3, {
    bucket: env.S3_BUCKET!,
    origins: [`http://localhost:${port}`, `http://localhost:${shortTtlPort}`],
    stagingExpiryDays: 1,
  })
  s3.destroy()
  const apps: AppServer[] = []
  try {
    apps.push(await startAppServer(env))
    apps.push(
      await startAppServer({
        ...env,
        PORT: String(shortTtlPort),
        APP_ORIGIN: `http://localhost:${shortTtlPort}`,
        UPLOAD_URL_TTL_SECONDS: '2',
        // One request at a time: a file's later parts start long after the batch that signed them ahead.
        UPLOAD_CONCURRENCY: '1',
      }),
    )
  } catch (error) {
    for (const app of apps) await app.stop()
    await services.stop()
    throw error
  }
  // Specs that look into the bucket read its address from here (workers inherit the environment).
  process.env.E2E_SERVICES_ENV = JSON.stringify(env)
  return async () => {
    for (const app of apps) await app.stop()
    await services.stop()
  }
}
