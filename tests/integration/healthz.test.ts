import { HeadBucketCommand } from '@aws-sdk/client-s3'
import { describe, expect, it, vi } from 'vitest'
import { HEALTH_CACHE_MS, loader } from '~/routes/healthz'
import { getS3 } from '~/utils/storage.server'

describe('/healthz', () => {
  it('answers a flood of probes from one check, so they cannot queue up work', async () => {
    const send = vi.spyOn(getS3(), 'send')
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, () => loader()))
      expect(answers.every((a) => a.status === 200)).toBe(true)
      expect(send.mock.calls.filter(([command]) => command instanceof HeadBucketCommand)).toHaveLength(1)
      expect(await answers[0]!.json()).toEqual({ database: 'ok', storage: 'ok' })
      expect(HEALTH_CACHE_MS).toBeLessThanOrEqual(5_000)
    } finally {
      send.mockRestore()
    }
  })
})
