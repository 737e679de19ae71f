import { HeadBucketCommand } from '@aws-sdk/client-s3'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { getS3 } from '~/utils/storage.server'

/** 200 when PostgreSQL and the bucket both answer, 503 otherwise; says which. */
export async function loader() {
  const timeout = <T>(promise: Promise<T>) =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), 3000)),
    ])
  const [database, storage] = await Promise.all([
    timeout(getSql()`select 1`).then(
      () => 'ok',
      (error: unknown) => `error: ${(error as Error).message}`,
    ),
    timeout(getS3().send(new HeadBucketCommand({ Bucket: getEnv().S3_BUCKET }))).then(
      () => 'ok',
      (error: unknown) => `error: ${(error as Error).name}`,
    ),
  ])
  const healthy = database === 'ok' && storage === 'ok'
  return Response.json(
    { database, storage },
    { status: healthy ? 200 : 503, headers: { 'Cache-Control': 'no-store' } },
  )
}
