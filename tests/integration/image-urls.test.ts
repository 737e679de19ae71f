import { PutObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { getEnv } from '~/utils/env.server'
import { presignedViewUrl } from '~/images/urls.server'
import { getS3 } from '~/utils/storage.server'
import { makePng } from '../support/images'

describe('image URLs', () => {
  it('stay the same within the hour, so the browser cache works, and serve the image', async () => {
    const key = `products/${crypto.randomUUID()}/a.png`
    const png = makePng(3, 3)
    await getS3().send(
      new PutObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: key, Body: png, ContentType: 'image/png' }),
    )
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000
    const early = await presignedViewUrl(key, hour + 60_000)
    expect(await presignedViewUrl(key, hour + 59 * 60_000)).toBe(early)
    expect(await presignedViewUrl(key, hour + 61 * 60_000)).not.toBe(early)
    const response = await fetch(await presignedViewUrl(key))
    expect(response.status).toBe(200)
    expect(Buffer.from(await response.arrayBuffer()).equals(png)).toBe(true)
  })
})
