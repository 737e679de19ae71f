import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { crc32, deflateSync } from 'node:zlib'
import sharp, { type Sharp } from 'sharp'
import type { DecodeAnswer, DecodeRequest } from './heic-decoder.worker'

/** Why a HEIC could not be decoded, for the admin's message; `detail` is the decoder's, for the log. */
export class HeicDecodeError extends Error {
  override name = 'HeicDecodeError'
  constructor(
    readonly reason: 'damaged' | 'unsupported' | 'too-many-pixels' | 'timeout',
    readonly detail: string,
  ) {
    super(`HEIC ${reason}: ${detail}`)
  }
}

const WORKER_URL = new URL('./heic-decoder.worker.ts', import.meta.url)
/**
 * ITU-T H.273 colour primaries: BT.709 (sRGB's), unspecified, BT.470 BG and BT.601 (within a hair of
 * sRGB's), and SMPTE EG 432-1 (Display P3).
 */
const PRIMARIES_SRGB = [1, 2, 5, 6]
const PRIMARIES_DISPLAY_P3 = 12

let compiled: Promise<WebAssembly.Module> | undefined

/** libheif's WebAssembly, compiled once per process and handed to each decoding thread. */
function libheifModule() {
  const require = createRequire(import.meta.url)
  compiled ??= readFile(require.resolve('libheif-js/libheif-wasm/libheif.wasm')).then((bytes) =>
    WebAssembly.compile(bytes),
  )
  return compiled
}

/**
 * Decodes a HEIC's primary image (its container's rotation, mirror and crop applied once, by libheif)
 * in a worker thread of its own, which is stopped after `timeoutMs`. Refuses before decoding an image
 * whose size exceeds `maxPixels`. Returns a sharp pipeline on the decoded pixels, scaled down to
 * `maxWidth` when wider, that carries the image's colour profile, so that the usual conversion to sRGB
 * applies (Display P3 included); `width` and `height` are the image's own.
 */
export async function decodeHeic(
  input: Uint8Array,
  { maxPixels, timeoutMs, maxWidth = Infinity }: { maxPixels: number; timeoutMs: number; maxWidth?: number },
): Promise<{ image: Sharp; width: number; height: number; hasAlpha: boolean }> {
  const answer = await runWorker({ input, maxPixels, module: await libheifModule() }, timeoutMs)
  if (!answer.ok) throw new HeicDecodeError(answer.reason, answer.detail)
  const { width, height, channels, data } = answer
  const icc = answer.icc ?? (answer.primaries === PRIMARIES_DISPLAY_P3 ? await displayP3Profile() : null)
  if (answer.primaries !== null && !PRIMARIES_SRGB.includes(answer.primaries) && !icc) {
    console.warn(`[images] HEIC with colour primaries ${answer.primaries}: shown as sRGB`)
  }
  let image = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width, height, channels },
  })
  if (icc) {
    // sharp converts an input's own ICC profile to sRGB, but raw pixels cannot carry one: a PNG stored
    // without compression can. Scaled down first (a per-pixel conversion commutes with it), that costs
    // a pass over a 2048 px image rather than over the whole photo.
    const small = await image
      .resize({ width: Math.min(width, maxWidth), withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true })
    const png = await sharp(small.data, { raw: small.info }).png({ compressionLevel: 0 }).toBuffer()
    image = sharp(withIccProfile(png, icc), { limitInputPixels: maxPixels })
  }
  return { image, width, height, hasAlpha: channels === 4 }
}

function runWorker(request: DecodeRequest, timeoutMs: number) {
  return new Promise<DecodeAnswer>((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: request })
    const timer = setTimeout(() => {
      void worker.terminate()
      reject(new HeicDecodeError('timeout', `no answer within ${timeoutMs} ms`))
    }, timeoutMs)
    worker.once('message', (answer: DecodeAnswer) => {
      clearTimeout(timer)
      resolve(answer)
      void worker.terminate()
    })
    worker.once('error', (error) => {
      clearTimeout(timer)
      reject(new HeicDecodeError('damaged', error.message))
    })
    worker.once('exit', (code) => {
      clearTimeout(timer)
      reject(new HeicDecodeError('damaged', `the decoder stopped (exit ${code})`))
    })
  })
}

let p3: Promise<Buffer> | undefined

/** libvips' own Display P3 profile, for images that name P3 by number (nclx) rather than by profile. */
function displayP3Profile() {
  p3 ??= sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } })
    .withIccProfile('p3')
    .png()
    .toBuffer()
    .then(async (png) => (await sharp(png).metadata()).icc!)
  return p3
}

/** The PNG with an iCCP chunk holding `icc`, right after its IHDR (as the PNG specification orders). */
export function withIccProfile(png: Buffer, icc: Uint8Array): Buffer {
  const ihdrEnd = 8 + 8 + 13 + 4
  const body = Buffer.concat([Buffer.from('icc\0\0', 'latin1'), deflateSync(icc)])
  const type = Buffer.from('iCCP', 'latin1')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(body.length)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([type, body])))
  return Buffer.concat([png.subarray(0, ihdrEnd), length, type, body, crc, png.subarray(ihdrEnd)])
}
