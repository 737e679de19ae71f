import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { partLayout } from '~/uploads/limits'
import { FileDigests } from './digest.client'
import type { DigestRequest } from './digest.worker'
import { SigningError, UploadSigner } from './signer.client'

const file = { id: 'f1', name: 'a.png', type: 'image/png', size: 10, data: new Blob(['0123456789']) }

function answering(status: number, body: unknown) {
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => Response.json(body, { status })),
  )
}

afterEach(() => vi.unstubAllGlobals())

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex')

/**
 * Node has no Web Worker: this stands in for digest.worker.ts (the same messages, node:crypto's MD5
 * instead of hash-wasm's), answering one range per macrotask as a worker would. The e2e tests run the
 * real one in Chromium.
 */
function nodeDigests() {
  const hashed: string[] = []
  const digests = new FileDigests(() => {
    const worker = {
      onmessage: null as ((event: MessageEvent) => void) | null,
      onerror: null,
      terminate() {},
      postMessage({ id, file, start, end }: DigestRequest) {
        void file
          .slice(start, end)
          .arrayBuffer()
          .then((bytes) => {
            hashed.push(`${start}-${end}`)
            setTimeout(() =>
              worker.onmessage?.({ data: { id, md5: md5(new Uint8Array(bytes)) } } as MessageEvent),
            )
          })
      },
    }
    return worker as unknown as Worker
  })
  return { digests, hashed }
}

/** A signing route that signs anything, recording every body it was sent. */
function recordingRoute() {
  const bodies: { operation: string; requests?: Record<string, unknown>[] }[] = []
  const signed = (request: Record<string, unknown>) => ({
    method: request.operation === 'createMultipartUpload' ? 'POST' : 'PUT',
    url: `http://s3.example/b/${String(request.fileName ?? request.partNumber)}?X-Amz-Signature=1`,
    key: `staging/1/${String(request.fileName)}`,
    ref: 'r.s',
  })
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body)) as (typeof bodies)[number]
      bodies.push(body)
      return Response.json(
        body.operation === 'batch'
          ? { results: body.requests!.map(signed) }
          : signed(body as Record<string, unknown>),
      )
    }),
  )
  return bodies
}

describe('UploadSigner checks every answer of the signing route', () => {
  it('takes a signed request that has the route’s shape', async () => {
    answering(200, { method: 'PUT', url: 'http://s3.example/b/k?X-Amz-Signature=1', key: 'k', ref: 'r.s' })
    const signed = await new UploadSigner(300_000, 'http://app.example/uploads/sign', null).sign(
      { method: 'PUT', key: 'a.png' },
      file,
    )
    expect(signed).toMatchObject({ method: 'PUT', key: 'k', ref: 'r.s' })
  })

  it('refuses a 200 that is not a signed request, instead of uploading to nowhere', async () => {
    answering(200, { method: 'PUT', url: 'not a url' })
    const signing = new UploadSigner(300_000, 'http://app.example/uploads/sign', null).sign(
      { method: 'PUT', key: 'a.png' },
      file,
    )
    await expect(signing).rejects.toThrow(SigningError)
    await expect(signing).rejects.toMatchObject({ status: 502 })
  })

  it('passes a refusal’s message on, and says so when the session has ended', async () => {
    answering(413, { error: 'a.png is larger than 32 MiB, the limit for one image.' })
    const signer = new UploadSigner(300_000, 'http://app.example/uploads/sign', null)
    await expect(signer.sign({ method: 'PUT', key: 'a.png' }, file)).rejects.toThrow(
      'a.png is larger than 32 MiB, the limit for one image.',
    )
    answering(401, { error: 'Sign in as an admin first.' })
    await expect(signer.sign({ method: 'PUT', key: 'a.png' }, file)).rejects.toThrow(/session has ended/)
  })

  it('waits out a 429 for as long as Retry-After says, then signs, so the file waits rather than fails', async () => {
    vi.useFakeTimers()
    try {
      const fetched: number[] = []
      vi.stubGlobal(
        'fetch',
        vi.fn(async () => {
          fetched.push(Date.now())
          return fetched.length === 1
            ? Response.json(
                { error: 'More than 300 new uploads a minute…', retryAfter: 7 },
                {
                  status: 429,
                  headers: { 'Retry-After': '7' },
                },
              )
            : Response.json({
                method: 'PUT',
                url: 'http://s3.example/b/k?X-Amz-Signature=1',
                key: 'k',
                ref: 'r.s',
              })
        }),
      )
      const signing = new UploadSigner(300_000, 'http://app.example/uploads/sign', null).sign(
        { method: 'PUT', key: 'a.png' },
        file,
      )
      await vi.advanceTimersByTimeAsync(6_900)
      expect(fetched).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(200)
      await expect(signing).resolves.toMatchObject({ key: 'k' })
      expect(fetched[1]! - fetched[0]!).toBeGreaterThanOrEqual(7_000)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('UploadSigner signs every request with the digest of its bytes', () => {
  const bytes = (size: number, seed: number) => Uint8Array.from({ length: size }, (_, i) => (i * seed) % 251)

  it('signs a single PUT with the MD5 of the whole file', async () => {
    const bodies = recordingRoute()
    const data = bytes(1000, 7)
    const signer = new UploadSigner(300_000, '/uploads/sign', nodeDigests().digests)
    await signer.sign({ method: 'PUT', key: 'f1' }, { ...file, size: data.length, data: new Blob([data]) })
    expect(bodies).toEqual([expect.objectContaining({ operation: 'putObject', md5: md5(data) })])
  })

  const filesOf = (count: number, size: number) =>
    Array.from({ length: count }, (_, i) => {
      const data = bytes(size + i, i + 3)
      return { id: `f${i}`, name: `${i}.png`, type: 'image/png', size: data.length, data: new Blob([data]) }
    })

  it('signs a small drop ahead in one batch, each request with the digest of its own file', async () => {
    const bodies = recordingRoute()
    const signer = new UploadSigner(300_000, '/uploads/sign', nodeDigests().digests)
    const files = filesOf(8, 1000)
    signer.signAhead(files.map((f) => ({ ...f, multipart: false })))
    await Promise.all(files.map((f) => signer.sign({ method: 'PUT', key: f.id }, f)))
    expect(bodies).toHaveLength(1)
    expect(bodies[0]!.operation).toBe('batch')
    for (const [i, request] of bodies[0]!.requests!.entries()) {
      expect(request.md5).toBe(md5(new Uint8Array(await files[i]!.data.arrayBuffer())))
    }
  })

  it('starts a large drop’s first uploads after their own digests, not the whole drop’s, and signs the rest together', async () => {
    const bodies = recordingRoute()
    const signer = new UploadSigner(300_000, '/uploads/sign', nodeDigests().digests)
    const files = filesOf(6, 8 * 1024 * 1024) // 48 MiB to hash
    signer.signAhead(files.map((f) => ({ ...f, multipart: false })))
    await signer.sign({ method: 'PUT', key: 'f0' }, files[0])
    // Signed with whichever digests were known by then (the queue hashes the largest first), not all.
    const first = bodies[0]!.requests!.map((request) => request.fileName)
    expect(first).toContain('0.png')
    expect(first.length).toBeLessThan(files.length)
    await Promise.all(files.slice(1).map((f) => signer.sign({ method: 'PUT', key: f.id }, f)))
    const sent = bodies.flatMap((body) => body.requests ?? [body])
    expect(sent.map((request) => request.fileName).sort()).toEqual(files.map((f) => f.name))
    expect(bodies.every((body) => body.operation === 'batch')).toBe(true)
  })

  it('signs each part with the MD5 of exactly the bytes Uppy cuts for it', async () => {
    const bodies = recordingRoute()
    const size = 20 * 1024 * 1024
    const data = bytes(size, 13)
    const big = { id: 'big', name: 'big.png', type: 'image/png', size, data: new Blob([data]) }
    const signer = new UploadSigner(300_000, '/uploads/sign', nodeDigests().digests)
    signer.signAhead([{ ...big, multipart: true }])
    const created = await signer.sign({ method: 'POST', key: 'big' }, big)
    const { count, partSize } = partLayout(size)
    expect(count).toBe(3)
    await Promise.all(
      [1, 2, 3].map((partNumber) =>
        signer.sign({ method: 'PUT', key: created.key!, uploadId: 'u1', partNumber }),
      ),
    )
    const parts = bodies
      .flatMap((body) => body.requests ?? [body])
      .filter((request) => request.operation === 'uploadPart')
      .sort((a, b) => Number(a.partNumber) - Number(b.partNumber))
    expect(parts.map((part) => [part.partNumber, part.md5])).toEqual(
      [1, 2, 3].map((n) => [n, md5(data.subarray((n - 1) * partSize, Math.min(n * partSize, size)))]),
    )
  })
})
