import type { FullConfig } from '@playwright/test'
import { startAppServer } from './app-server'
import { startTestServices } from './services'

/** Real PostgreSQL, real Ceph RGW and the production build of the app, for every spec. */
export default async function globalSetup(_config: FullConfig) {
  const port = Number(process.env.E2E_PORT)
  const services = await startTestServices(port)
  const app = await startAppServer(services.env).catch(async (error: unknown) => {
    await services.stop()
    throw error
  })
  Object.assign(process.env, { E2E_S3_ENDPOINT: services.env.S3_ENDPOINT })
  return async () => {
    await app.stop()
    await services.stop()
  }
}
