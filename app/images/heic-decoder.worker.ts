// Decodes one HEIC in a worker thread, with libheif (and libde265) built to WebAssembly by libheif-js.
// A thread of its own, so that a pathological file can be stopped (WebAssembly cannot be interrupted
// on the thread that runs it) and its memory goes back when the thread ends. Node runs this file
// itself (type stripping): no loader, no path aliases, only erasable TypeScript.
import { createRequire } from 'node:module'
import { parentPort, workerData } from 'node:worker_threads'

export interface DecodeRequest {
  input: Uint8Array
  maxPixels: number
  /** libheif compiled once by the parent: each worker only instantiates it. */
  module: WebAssembly.Module
}

export type DecodeAnswer =
  | {
      ok: true
      width: number
      height: number
      channels: 3 | 4
      data: Uint8Array
      /** The image's ICC profile (`colr` of type prof or rICC), if it has one. */
      icc: Uint8Array | null
      /** Its colour primaries as ITU-T H.273 numbers them (`colr` of type nclx): 1 is sRGB's, 12 Display P3's. */
      primaries: number | null
    }
  | {
      ok: false
      reason: 'damaged' | 'unsupported' | 'too-many-pixels'
      detail: string
      width?: number
      height?: number
    }

const require = createRequire(import.meta.url)
const PROFILE_NCLX = 0x6e636c78
const PROFILE_ICC = [0x70726f66, 0x72494343] // 'prof', 'rICC'

async function decode({ input, maxPixels, module }: DecodeRequest): Promise<DecodeAnswer> {
  const factory = require('libheif-js/libheif-wasm/libheif.js')
  const lib = await factory({
    // This build instantiates synchronously and takes the exports this returns.
    instantiateWasm: (
      imports: WebAssembly.Imports,
      receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => unknown,
    ) => receive(new WebAssembly.Instance(module, imports), module),
    print: () => {},
    printErr: () => {},
  })
  const context = lib.heif_context_alloc()
  const read = lib.heif_context_read_from_memory(context, input)
  if (read.code.value !== 0) return { ok: false, reason: 'damaged', detail: `read: ${read.message}` }
  // The primary image only: thumbnails, depth and gain maps, and other top-level images are skipped.
  const handle = lib.heif_js_context_get_primary_image_handle(context)
  if (!handle || handle.code) {
    return { ok: false, reason: 'damaged', detail: `primary image: ${handle?.message ?? 'none'}` }
  }
  // The size after the container's crop, rotation and mirror, which the decoder applies once.
  const width: number = lib.heif_image_handle_get_width(handle)
  const height: number = lib.heif_image_handle_get_height(handle)
  if (width * height > maxPixels) {
    return { ok: false, reason: 'too-many-pixels', detail: `${width} x ${height}`, width, height }
  }
  const alpha = lib.heif_image_handle_has_alpha_channel(handle) !== 0
  const pointer: number = handle.$$.ptr
  const colour = readColour(lib, pointer)
  const image = lib.heif_js_decode_image2(
    handle,
    lib.heif_colorspace.heif_colorspace_RGB,
    alpha ? lib.heif_chroma.heif_chroma_interleaved_RGBA : lib.heif_chroma.heif_chroma_interleaved_RGB,
  )
  if (!image || image.code !== undefined) {
    const message = String(image?.message ?? 'no image')
    const unsupported = /unsupported|no decoder|not supported/i.test(message)
    return { ok: false, reason: unsupported ? 'unsupported' : 'damaged', detail: `decode: ${message}` }
  }
  const channels = alpha ? 4 : 3
  const plane = image.channels.find(
    (c: { id: { value: number } }) => c.id.value === lib.heif_channel.heif_channel_interleaved.value,
  )
  if (!plane) return { ok: false, reason: 'damaged', detail: 'decode: no interleaved plane' }
  const row = width * channels
  let data: Uint8Array
  if (plane.stride === row) data = new Uint8Array(plane.data.subarray(0, row * height))
  else {
    data = new Uint8Array(row * height)
    for (let y = 0; y < height; y++)
      data.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), y * row)
  }
  return { ok: true, width, height, channels, data, ...colour }
}

/** The part of libheif's C interface (as Emscripten exports it) that reads an image's colour profile. */
interface ColourApi {
  _heif_image_handle_get_color_profile_type(handle: number): number
  _heif_image_handle_get_raw_color_profile_size(handle: number): number
  _heif_image_handle_get_raw_color_profile(error: number, handle: number, out: number): void
  _heif_image_handle_get_nclx_color_profile(error: number, handle: number, out: number): void
  _heif_nclx_color_profile_free(nclx: number): void
  _malloc(size: number): number
  _free(pointer: number): void
  HEAPU8: Uint8Array
  HEAPU32: Uint32Array
}

function readColour(lib: ColourApi, handle: number): { icc: Uint8Array | null; primaries: number | null } {
  const type: number = lib._heif_image_handle_get_color_profile_type(handle)
  if (PROFILE_ICC.includes(type)) {
    const size: number = lib._heif_image_handle_get_raw_color_profile_size(handle)
    const error = lib._malloc(16)
    const out = lib._malloc(size)
    try {
      lib._heif_image_handle_get_raw_color_profile(error, handle, out)
      return { icc: lib.HEAPU8.slice(out, out + size), primaries: null }
    } finally {
      lib._free(out)
      lib._free(error)
    }
  }
  if (type === PROFILE_NCLX) {
    const error = lib._malloc(16)
    const out = lib._malloc(4)
    try {
      lib._heif_image_handle_get_nclx_color_profile(error, handle, out)
      const nclx = lib.HEAPU32[out >> 2]!
      if (!nclx) return { icc: null, primaries: null }
      // struct heif_color_profile_nclx: uint8 version, then the primaries as a 32-bit enum.
      const primaries = lib.HEAPU32[(nclx + 4) >> 2]!
      lib._heif_nclx_color_profile_free(nclx)
      return { icc: null, primaries }
    } finally {
      lib._free(out)
      lib._free(error)
    }
  }
  return { icc: null, primaries: null }
}

const request = workerData as DecodeRequest
decode(request).then(
  (answer) => parentPort!.postMessage(answer, answer.ok ? [answer.data.buffer as ArrayBuffer] : []),
  (error: unknown) =>
    parentPort!.postMessage({
      ok: false,
      reason: 'damaged',
      detail: error instanceof Error ? error.message : String(error),
    } satisfies DecodeAnswer),
)
