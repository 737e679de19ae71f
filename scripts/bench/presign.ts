import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { S3Client, UploadPartCommand } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { SignatureV4 } from '@smithy/signature-v4'
import { createPresigner } from '../../app/utils/presign.server'
import { median, type Row } from './support'

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
}
const ROUNDS = 5
const PER_ROUND = 20_000

class NodeSha256 {
  readonly #hash: Hash | Hmac
  /** With a secret, an HMAC (the signer derives its keys with it). */
  constructor(secret?: unknown) {
    this.#hash = secret ? createHmac('sha256', secret as Uint8Array) : createHash('sha256')
  }
  update(data: Uint8Array | string) {
    this.#hash.update(data)
  }
  async digest() {
    return new Uint8Array(this.#hash.digest())
  }
}

/**
 * One uploadPart URL (the signing route's hot path), signed in this process by the app's presigner,
 * by @smithy/signature-v4's presign with the same inputs, and by the SDK's getSignedUrl: signatures
 * per second, median of rounds run in turn.
 */
export async function benchPresign(): Promise<Row[]> {
  const s3 = new S3Client({
    region: 'eu-west-1',
    endpoint: 'https://s3.eu-west-1.amazonaws.com',
    credentials,
    forcePathStyle: true,
  })
  const ours = createPresigner({
    s3,
    endpoint: 'https://s3.eu-west-1.amazonaws.com',
    bucket: 'shop-images',
    forcePathStyle: true,
  })
  const smithy = new SignatureV4({
    service: 's3',
    region: 'eu-west-1',
    credentials,
    sha256: NodeSha256,
    uriEscapePath: false,
  })
  const host = 's3.eu-west-1.amazonaws.com'
  const key = 'staging/7/0b7e2f0e-7f1c-4c4e-9d4f-2a4a7e0c1d11.jpg'
  const implementations: [string, (i: number) => Promise<unknown>][] = [
    [
      'app presigner (app/utils/presign.server.ts)',
      (i) =>
        ours.presign({
          method: 'PUT',
          key,
          query: { partNumber: String((i % 100) + 1), uploadId: 'upload-1' },
          headers: { 'content-length': '6291456' },
          expiresIn: 300,
        }),
    ],
    [
      '@smithy/signature-v4 presign',
      (i) =>
        smithy.presign(
          {
            method: 'PUT',
            protocol: 'https:',
            hostname: host,
            path: `/shop-images/${key}`,
            query: { partNumber: String((i % 100) + 1), uploadId: 'upload-1' },
            headers: { host, 'content-length': '6291456', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
          },
          { expiresIn: 300 },
        ),
    ],
    [
      '@aws-sdk/s3-request-presigner getSignedUrl',
      (i) =>
        getSignedUrl(
          s3,
          new UploadPartCommand({
            Bucket: 'shop-images',
            Key: key,
            PartNumber: (i % 100) + 1,
            UploadId: 'upload-1',
            ContentLength: 6291456,
          }),
          { expiresIn: 300, signableHeaders: new Set(['content-length']) },
        ),
    ],
  ]
  const rates = new Map<string, number[]>(implementations.map(([name]) => [name, []]))
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [name, sign] of implementations) {
      const count = name.startsWith('@aws-sdk') ? PER_ROUND / 10 : PER_ROUND
      const started = performance.now()
      for (let i = 0; i < count; i++) await sign(i)
      if (round > 0) rates.get(name)!.push(count / ((performance.now() - started) / 1000)) // round 0 warms up
    }
  }
  const oursRate = median(rates.get(implementations[0]![0])!)
  return implementations.map(([name]) => {
    const rate = median(rates.get(name)!)
    return {
      benchmark: `presign one uploadPart URL: ${name}`,
      measured: `${Math.round(rate).toLocaleString('en')} signatures/s`,
      baseline: `app ${Math.round(oursRate).toLocaleString('en')}/s`,
      result: `${(rate / oursRate).toFixed(2)}x of the app's`,
      goal: '-',
      verdict: '-',
    }
  })
}
