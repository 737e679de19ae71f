import { randomInt } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { recordUpload } from '~/models/upload.server'
import { action } from '~/routes/uploads.sign'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { newStagingKey } from '~/utils/storage.server'
import { DEFAULT_NEW_UPLOADS_PER_MINUTE, MAX_SIGN_BATCH } from '~/uploads/limits'
import { reserveNewUploads, UploadLimitError, type UploadLimitSettings } from '~/uploads/upload-limits.server'
import { createTestAdmin, sessionCookie } from '../support/admins'

/** An address of the documentation range no other test uses. */
const anAddress = () => `198.51.100.${randomInt(1, 254)}:${randomInt(1, 1e9)}`

const newUploads = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    operation: 'putObject',
    fileName: `burst-${i}.png`,
    contentType: 'image/png',
    size: 1000,
  }))

describe('limits on new uploads per admin and per address', () => {
  it('answers a burst past the admin’s rate with 429 and Retry-After, and signs nothing for it', async () => {
    const admin = await createTestAdmin('burst')
    const cookie = await sessionCookie(admin)
    const clientAddress = anAddress()
    const batches = Math.ceil(DEFAULT_NEW_UPLOADS_PER_MINUTE / MAX_SIGN_BATCH) + 1
    const answers: Response[] = []
    for (let i = 0; i < batches; i++) {
      answers.push(
        await action({
          request: new Request('http://localhost/uploads/sign', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Origin: getEnv().APP_ORIGIN, Cookie: cookie },
            body: JSON.stringify({ operation: 'batch', requests: newUploads(MAX_SIGN_BATCH) }),
          }),
          params: {},
          context: { clientAddress },
        }),
      )
    }
    expect(answers.map((a) => a.status)).toEqual([...Array(batches - 1).fill(200), 429])
    const refused = answers.at(-1)!
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0)
    expect((await refused.json()) as { error: string }).toMatchObject({
      error: expect.stringContaining(`More than ${DEFAULT_NEW_UPLOADS_PER_MINUTE} new uploads a minute`),
    })
    const [signed] = await getSql()<
      { n: number }[]
    >`select count(*)::int as n from uploads where admin_id = ${admin.id}`
    expect(signed!.n).toBe((batches - 1) * MAX_SIGN_BATCH)
  })

  const settings = (overrides: Partial<UploadLimitSettings>): UploadLimitSettings => ({
    maxOpenPerAdmin: 0,
    perMinuteAdmin: 0,
    perMinuteAddress: 0,
    openForMs: 86_400_000,
    ...overrides,
  })

  it('counts one address across admins', async () => {
    const [first, second] = [await createTestAdmin('address-a'), await createTestAdmin('address-b')]
    const address = anAddress()
    const limits = settings({ perMinuteAddress: 5 })
    await reserveNewUploads({ adminId: first.id, address, count: 3 }, limits)
    const refused = reserveNewUploads({ adminId: second.id, address, count: 3 }, limits)
    await expect(refused).rejects.toBeInstanceOf(UploadLimitError)
    await expect(refused).rejects.toThrow('from this address')
    // Another address is not held back.
    await reserveNewUploads({ adminId: second.id, address: anAddress(), count: 3 }, limits)
  })

  it('caps the uploads an admin has not saved yet, in words that say what to do', async () => {
    const admin = await createTestAdmin('open-cap')
    for (let i = 0; i < 3; i++) {
      await recordUpload({
        key: newStagingKey(admin.id, 'image/png'),
        adminId: admin.id,
        fileName: `open-${i}.png`,
        contentType: 'image/png',
        declaredSize: 10,
        multipart: false,
      })
    }
    const limits = settings({ maxOpenPerAdmin: 4 })
    await reserveNewUploads({ adminId: admin.id, address: anAddress(), count: 1 }, limits)
    const refused = reserveNewUploads({ adminId: admin.id, address: anAddress(), count: 2 }, limits)
    await expect(refused).rejects.toThrow(
      'You have 3 uploads not yet saved with a product, and at most 4 can wait at once: save or remove some',
    )
    await expect(refused).rejects.toMatchObject({ retryAfter: 60 })
  })
})
