import { randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { Admin } from '~/models/admin.server'
import { parseImageForm } from '~/uploads/form-stream.server'
import { getUploadLimits } from '~/uploads/submission.server'
import { stagingPrefix } from '~/utils/storage.server'
import { createTestAdmin } from '../support/admins'
import { makePng } from '../support/images'
import { listMultipartUploads, readObject } from '../support/s3'

let admin: Admin
beforeAll(async () => {
  admin = await createTestAdmin('dropped')
})

const MiB = 1024 * 1024
const boundary = 'dropped-connection-boundary'

/**
 * A no-JavaScript form whose one image is 20 MiB, sent 1 MiB at a time until `sentBytes`, after which
 * the body does what a dropped connection does: `how` is 'abort' (the client went away: the request's
 * signal fires) or 'error' (the body stream breaks).
 */
function droppingRequest(sentBytes: number, how: 'abort' | 'error') {
  const controller = new AbortController()
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nHalf a chair\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="images"; filename="huge.png"\r\nContent-Type: image/png\r\n\r\n`,
  )
  const png = makePng(64, 64, { padTo: 20 * MiB })
  let offset = 0
  let dropped!: () => void
  const droppedNow = new Promise<void>((resolve) => (dropped = resolve))
  const body = new ReadableStream<Uint8Array>({
    start(stream) {
      stream.enqueue(new Uint8Array(head))
    },
    async pull(stream) {
      if (offset >= sentBytes) {
        dropped()
        // The network goes quiet; then the connection is gone.
        await new Promise((resolve) => setTimeout(resolve, 50))
        if (how === 'abort') controller.abort()
        else stream.error(new Error('socket hang up'))
        return
      }
      stream.enqueue(new Uint8Array(png.subarray(offset, offset + MiB)))
      offset += MiB
    },
  })
  const request = new Request('http://localhost/products/new', {
    method: 'POST',
    headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    body,
    signal: controller.signal,
    duplex: 'half',
  } as RequestInit)
  return { request, droppedNow }
}

describe('a no-JavaScript upload whose connection drops', () => {
  for (const how of ['abort', 'error'] as const) {
    it(`ends its parser and aborts its multipart upload (${how === 'abort' ? 'client gone' : 'stream broken'})`, async () => {
      // 14 MiB: two parts are in S3 or on their way, so a multipart upload has been started.
      const { request, droppedNow } = droppingRequest(14 * MiB, how)
      const parsing = parseImageForm(request, {
        adminId: admin.id,
        fileField: 'images',
        limits: getUploadLimits(),
      })
      await droppedNow
      await expect(parsing).rejects.toThrow()
      expect(await listMultipartUploads(stagingPrefix(admin.id))).toEqual([])
    })
  }
})

describe('part buffers', () => {
  it('are taken only as a file needs them: twenty tiny files in flight do not pin twenty parts', async () => {
    const { newStagingKey } = await import('~/utils/storage.server')
    const { streamToS3, STREAM_PART_BYTES } = await import('~/uploads/stream-to-s3.server')
    const release: (() => void)[] = []
    // Twenty uploads, each with its first kilobyte in and the rest not yet arrived.
    const sources = Array.from({ length: 20 }, () => {
      let step = 0
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          step += 1
          if (step === 1) return { done: false, value: new Uint8Array(makePng(8, 8)) }
          await new Promise<void>((resolve) => release.push(resolve))
          return { done: true, value: undefined }
        },
      }
    })
    const before = process.memoryUsage().arrayBuffers
    const uploads = sources.map((source) =>
      streamToS3({
        source,
        maxBytes: 1024 * 1024,
        inspect: () => ({ key: newStagingKey(admin.id, 'image/png'), contentType: 'image/png' }),
      }),
    )
    while (release.length < 20) await new Promise((resolve) => setImmediate(resolve))
    const held = process.memoryUsage().arrayBuffers - before
    release.forEach((go) => go())
    await Promise.all(uploads)
    expect(held).toBeLessThan(2 * STREAM_PART_BYTES)
  })

  it('are reused by the next upload, and uploads at the same time never share one: each object holds its own bytes', async () => {
    const { UploadPartCommand } = await import('@aws-sdk/client-s3')
    const { getS3, newStagingKey } = await import('~/utils/storage.server')
    const { streamToS3, STREAM_PART_BYTES } = await import('~/uploads/stream-to-s3.server')
    const s3 = getS3()
    // The S3 client as streamToS3 uses it, noting the buffer each part was sent from.
    const sentFrom = new Map<string, Set<ArrayBufferLike>>()
    const noting = {
      send: (command: { input: { Key?: string; Body?: unknown } }) => {
        if (command instanceof UploadPartCommand && command.input.Body instanceof Uint8Array) {
          const key = command.input.Key!
          sentFrom.set(key, (sentFrom.get(key) ?? new Set()).add(command.input.Body.buffer))
        }
        return s3.send(command as never)
      },
    } as unknown as typeof s3
    const upload = async (body: Buffer) => {
      const key = newStagingKey(admin.id, 'image/png')
      const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) =>
        body.subarray(i * 65536, (i + 1) * 65536),
      )[Symbol.iterator]()
      await streamToS3({
        s3: noting,
        source: { next: async () => chunks.next() },
        maxBytes: 64 * MiB,
        inspect: () => ({ key, contentType: 'image/png' }),
      })
      return { key, stored: (await readObject(key)).bytes }
    }
    // Three parts each: two full ones and a short last one.
    const size = 2 * STREAM_PART_BYTES + 12345
    const [first, second, third] = [randomBytes(size), randomBytes(size), randomBytes(size)]

    const one = await upload(first)
    const [two, three] = await Promise.all([upload(second), upload(third)])

    expect(one.stored.equals(first)).toBe(true)
    expect(two.stored.equals(second)).toBe(true)
    expect(three.stored.equals(third)).toBe(true)
    const buffersOf = (key: string) => [...sentFrom.get(key)!]
    // The later uploads took their part buffers from the first one's, not new ones.
    expect(buffersOf(two.key).some((buffer) => buffersOf(one.key).includes(buffer))).toBe(true)
    expect(buffersOf(three.key).some((buffer) => buffersOf(one.key).includes(buffer))).toBe(true)
  })
})

describe('a no-JavaScript upload over a slow link', () => {
  it('may take longer than SUBMIT_TIMEOUT_SECONDS to arrive: the clock starts once it is in', async () => {
    const previous = process.env.SUBMIT_TIMEOUT_SECONDS
    process.env.SUBMIT_TIMEOUT_SECONDS = '1'
    vi.resetModules()
    try {
      const { submitProductEditor } = await import('~/routes/__product-editor.server')
      const png = makePng(32, 32)
      const parts = [
        `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nSlowly sent\r\n`,
        `--${boundary}\r\nContent-Disposition: form-data; name="price"\r\n\r\n3.50\r\n`,
        `--${boundary}\r\nContent-Disposition: form-data; name="images"; filename="slow.png"\r\nContent-Type: image/png\r\n\r\n`,
      ].map((text) => new Uint8Array(Buffer.from(text)))
      parts.push(new Uint8Array(png), new Uint8Array(Buffer.from(`\r\n--${boundary}--\r\n`)))
      // Five pieces a second apart: the body takes about 2.5 s, the limit after it is 1 s.
      const body = new ReadableStream<Uint8Array>({
        async pull(stream) {
          const next = parts.shift()
          if (!next) return stream.close()
          await new Promise((resolve) => setTimeout(resolve, 500))
          stream.enqueue(next)
        },
      })
      const request = new Request('http://localhost/products/new', {
        method: 'POST',
        headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        body,
        duplex: 'half',
      } as RequestInit)
      const result = await submitProductEditor(request, admin)
      expect(result).toMatchObject({ ok: true })
    } finally {
      if (previous === undefined) delete process.env.SUBMIT_TIMEOUT_SECONDS
      else process.env.SUBMIT_TIMEOUT_SECONDS = previous
      vi.resetModules()
    }
  })
})
