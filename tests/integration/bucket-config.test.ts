import {
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketCorsCommand,
} from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { checkBucket, configureBucket } from '~/utils/bucket-config.server'
import { parseEnv } from '~/utils/env.server'
import { prepareServices } from '../../server/services'
import { getEnv } from '~/utils/env.server'
import { getS3 } from '~/utils/storage.server'

describe('bucket configuration', () => {
  it('creates and configures a bucket once, then reports nothing to change', async () => {
    const bucket = `config-${Date.now()}`
    const options = { bucket, origins: ['http://shop.example'], stagingExpiryDays: 2 }
    const first = await configureBucket(getS3(), options)
    expect(first).toEqual([
      `created bucket ${bucket}`,
      expect.stringMatching(
        /^set CORS: http:\/\/shop.example may DELETE, GET, HEAD, POST, PUT, exposing ETag/,
      ),
      expect.stringMatching(/^set lifecycle: expire staging\/\* after 2 day/),
    ])
    expect(await configureBucket(getS3(), options)).toEqual([])

    const lifecycle = await getS3().send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))
    expect(lifecycle.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Filter: { Prefix: 'staging/' },
          Expiration: expect.objectContaining({ Days: 2 }),
        }),
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
      ]),
    )
    // A changed origin is a change.
    expect(await configureBucket(getS3(), { ...options, origins: ['https://admin.example'] })).toEqual([
      expect.stringMatching(/^set CORS: https:\/\/admin.example/),
    ])
    const cors = await getS3().send(new GetBucketCorsCommand({ Bucket: bucket }))
    expect(cors.CORSRules?.[0]?.AllowedOrigins).toEqual(['https://admin.example'])
  })

  it('answers a browser preflight from the app origin and exposes ETag', async () => {
    const env = getEnv()
    const url = `${env.S3_ENDPOINT}/${env.S3_BUCKET}/staging/1/x.png`
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        Origin: env.APP_ORIGIN,
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'content-type',
      },
    })
    expect(preflight.status).toBe(200)
    expect(preflight.headers.get('access-control-allow-origin')).toBe(env.APP_ORIGIN)
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/PUT/)
    expect(preflight.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('etag')

    const foreign = await fetch(url, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'PUT' },
    })
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('the start-up bucket check', () => {
  it('finds nothing wrong with a bucket configured for the origin', async () => {
    const bucket = `check-ok-${Date.now()}`
    await configureBucket(getS3(), { bucket, origins: ['http://shop.example'], stagingExpiryDays: 1 })
    expect(await checkBucket(getS3(), { bucket, origins: ['http://shop.example'] })).toEqual([])
  })

  it('names each CORS problem that would break browser uploads', async () => {
    const bucket = `check-bad-${Date.now()}`
    await configureBucket(getS3(), { bucket, origins: ['http://shop.example'], stagingExpiryDays: 1 })
    await getS3().send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['http://shop.example'],
              AllowedMethods: ['GET', 'PUT'],
              AllowedHeaders: ['x-amz-date'],
            },
          ],
        },
      }),
    )
    expect(
      await checkBucket(getS3(), { bucket, origins: ['http://shop.example', 'http://admin.example'] }),
    ).toEqual([
      'CORS for http://shop.example does not allow POST, DELETE, HEAD',
      'CORS for http://shop.example does not allow the Content-Type header',
      'CORS for http://shop.example does not allow the Content-MD5 header',
      'CORS for http://shop.example does not expose ETag (multipart uploads need it)',
      'no CORS rule allows the origin http://admin.example',
    ])
  })

  it('says when the bucket does not answer', async () => {
    const [problem] = await checkBucket(getS3(), {
      bucket: `missing-${Date.now()}`,
      origins: ['http://shop.example'],
    })
    expect(problem).toMatch(/^bucket missing-\d+ does not answer/)
  })

  it('is reported loudly at start, with the exact fix', async () => {
    const bucket = `check-start-${Date.now()}`
    await configureBucket(getS3(), { bucket, origins: ['http://elsewhere.example'], stagingExpiryDays: 1 })
    const lines: string[] = []
    const services = await prepareServices(
      parseEnv({ ...process.env, S3_BUCKET: bucket, APP_ORIGIN: 'https://admin.shop.example' }),
      (l) => lines.push(l),
    )
    await services.stop()
    const message = lines.join('\n')
    expect(message).toContain(`!!! Browser uploads to bucket ${bucket} will fail:`)
    expect(message).toContain('no CORS rule allows the origin https://admin.shop.example')
    expect(message).toContain('run `npm run bucket:setup`')
  })
})
