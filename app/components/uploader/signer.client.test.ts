import { afterEach, describe, expect, it, vi } from 'vitest'
import { SigningError, UploadSigner } from './signer.client'

const file = { id: 'f1', name: 'a.png', type: 'image/png', size: 10 }

function answering(status: number, body: unknown) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => Response.json(body, { status })),
  )
}

afterEach(() => vi.unstubAllGlobals())

describe('UploadSigner checks every answer of the signing route', () => {
  it('takes a signed request that has the route’s shape', async () => {
    answering(200, { method: 'PUT', url: 'http://s3.example/b/k?X-Amz-Signature=1', key: 'k', ref: 'r.s' })
    const signed = await new UploadSigner(300_000, 'http://app.example/uploads/sign').sign(
      { method: 'PUT', key: 'a.png' },
      file,
    )
    expect(signed).toMatchObject({ method: 'PUT', key: 'k', ref: 'r.s' })
  })

  it('refuses a 200 that is not a signed request, instead of uploading to nowhere', async () => {
    answering(200, { method: 'PUT', url: 'not a url' })
    const signing = new UploadSigner(300_000, 'http://app.example/uploads/sign').sign(
      { method: 'PUT', key: 'a.png' },
      file,
    )
    await expect(signing).rejects.toThrow(SigningError)
    await expect(signing).rejects.toMatchObject({ status: 502 })
  })

  it('passes a refusal’s message on, and says so when the session has ended', async () => {
    answering(413, { error: 'a.png is larger than 32 MiB, the limit for one image.' })
    const signer = new UploadSigner(300_000, 'http://app.example/uploads/sign')
    await expect(signer.sign({ method: 'PUT', key: 'a.png' }, file)).rejects.toThrow(
      'a.png is larger than 32 MiB, the limit for one image.',
    )
    answering(401, { error: 'Sign in as an admin first.' })
    await expect(signer.sign({ method: 'PUT', key: 'a.png' }, file)).rejects.toThrow(/session has ended/)
  })
})
