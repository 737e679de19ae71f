import { createHash, createHmac } from 'node:crypto'
import { S3Client } from '@aws-sdk/client-s3'
import { SignatureV4 } from '@smithy/signature-v4'
import { describe, expect, it } from 'vitest'
import { createPresigner, encodeRfc3986, type PresignTarget } from './presign.server'

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}
const s3 = new S3Client({ region: 'eu-west-1', credentials, endpoint: 'https://s3.eu-west-1.amazonaws.com' })
const signingDate = new Date('2026-11-24T02:30:00Z')

class NodeSha256 {
  #hash
  constructor(secret?: unknown) {
    this.#hash = secret ? createHmac('sha256', secret as Buffer) : createHash('sha256')
  }
  update(data: string | Uint8Array) {
    this.#hash.update(data)
  }
  async digest() {
    return new Uint8Array(this.#hash.digest())
  }
}

/** The same request through the AWS SDK's own SigV4 implementation: the reference answer. */
async function reference(target: PresignTarget, { host, path }: { host: string; path: string }) {
  const signer = new SignatureV4({
    service: 's3',
    region: 'eu-west-1',
    credentials,
    sha256: NodeSha256,
    uriEscapePath: false,
  })
  const signed = await signer.presign(
    {
      method: target.method,
      protocol: 'https:',
      hostname: host,
      path,
      query: target.query ?? {},
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...target.headers },
    },
    { expiresIn: target.expiresIn, signingDate },
  )
  return signed.query!['X-Amz-Signature']
}

describe('createPresigner', () => {
  const cases: [string, PresignTarget][] = [
    [
      'a PUT with signed type and length',
      {
        method: 'PUT',
        key: 'staging/7/a b+c.png',
        headers: { 'content-type': 'image/png', 'content-length': '1234' },
        expiresIn: 300,
      },
    ],
    [
      'a multipart create',
      {
        method: 'POST',
        key: 'staging/7/x.jpg',
        query: { uploads: '' },
        headers: { 'content-type': 'image/jpeg' },
        expiresIn: 60,
      },
    ],
    [
      'a part',
      {
        method: 'PUT',
        key: 'staging/7/x.jpg',
        query: { partNumber: '12', uploadId: '2~abc/def+=' },
        headers: { 'content-length': '8388608' },
        expiresIn: 300,
      },
    ],
    ['a list', { method: 'GET', key: 'staging/7/x.jpg', query: { uploadId: 'u' }, expiresIn: 300 }],
    ['an abort', { method: 'DELETE', key: 'staging/7/x.jpg', query: { uploadId: 'u' }, expiresIn: 300 }],
  ]

  it.each(cases)('signs %s exactly as the SDK signer does (path style)', async (_, target) => {
    const presigner = createPresigner({
      s3,
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      bucket: 'shop-images',
      forcePathStyle: true,
    })
    const url = new URL(await presigner.presign({ ...target, signingDate }))
    const path = `/shop-images/${target.key.split('/').map(encodeRfc3986).join('/')}`
    expect(url.host).toBe('s3.eu-west-1.amazonaws.com')
    expect(url.pathname).toBe(path)
    expect(url.searchParams.get('X-Amz-Signature')).toBe(await reference(target, { host: url.host, path }))
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(target.expiresIn))
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261124/eu-west-1/s3/aws4_request')
  })

  it('signs virtual-hosted-style URLs for AWS', async () => {
    const presigner = createPresigner({
      s3,
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      bucket: 'shop-images',
      forcePathStyle: false,
    })
    const target = cases[0]![1]
    const url = new URL(await presigner.presign({ ...target, signingDate }))
    expect(url.host).toBe('shop-images.s3.eu-west-1.amazonaws.com')
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      await reference(target, { host: url.host, path: url.pathname }),
    )
  })

  it('adds the session token of temporary credentials', async () => {
    const temporary = new S3Client({
      region: 'eu-west-1',
      credentials: { ...credentials, sessionToken: 'TOKEN/+=' },
    })
    const presigner = createPresigner({
      s3: temporary,
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      bucket: 'b',
      forcePathStyle: true,
    })
    const url = new URL(await presigner.presign({ method: 'GET', key: 'k', expiresIn: 60, signingDate }))
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('TOKEN/+=')
  })
})
