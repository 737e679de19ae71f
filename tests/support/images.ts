import { deflateSync } from 'node:zlib'

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(bytes: Buffer) {
  let c = 0xffffffff
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Buffer) {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/**
 * A valid PNG of the given size filled with one colour. `padTo` appends an ancillary chunk of
 * random bytes (which decoders skip) so tests can make large real images cheaply.
 */
export function makePng(
  width: number,
  height: number,
  {
    rgb = [40, 120, 200] as [number, number, number],
    padTo = 0,
    bitDepth = 8 as 8 | 16,
    colourType = 2 as 2 | 6,
  } = {},
): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = bitDepth
  header[9] = colourType // 2: truecolour, 6: truecolour with alpha
  const channels = colourType === 6 ? 4 : 3
  const sample = bitDepth / 8
  const pixel = Buffer.alloc(channels * sample, 0xff)
  for (let c = 0; c < 3; c++) pixel.fill(rgb[c]!, c * sample, (c + 1) * sample)
  const row = Buffer.alloc(1 + width * channels * sample)
  for (let x = 0; x < width; x++) pixel.copy(row, 1 + x * pixel.length)
  const raw = Buffer.concat(Array.from({ length: height }, () => row))
  const parts = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
  ]
  const size = parts.reduce((n, p) => n + p.length, 0) + 12
  if (padTo > size + 12) {
    const pad = Buffer.alloc(padTo - size - 12)
    for (let i = 0; i < pad.length; i += 4096) pad[i] = (i * 31) & 0xff
    parts.push(chunk('prVt', pad))
  }
  parts.push(chunk('IEND', Buffer.alloc(0)))
  return Buffer.concat(parts)
}

/** A GIF header with a logical screen of the given size (enough for type and dimension sniffing). */
export function makeGif(width: number, height: number): Buffer {
  const b = Buffer.alloc(13 + 3 * 2 + 11 + 4)
  b.write('GIF89a', 0, 'ascii')
  b.writeUInt16LE(width, 6)
  b.writeUInt16LE(height, 8)
  b[10] = 0x80 // global colour table, 2 entries
  b[13 + 6] = 0x2c // image descriptor
  b.writeUInt16LE(width, 13 + 6 + 5)
  b.writeUInt16LE(height, 13 + 6 + 7)
  return Buffer.concat([b, Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00, 0x3b])])
}

/**
 * A PNG whose header claims `width` × `height` with next to no pixel data: what a decompression bomb
 * or a forged header looks like to a checker that reads headers.
 */
export function makePngHeader(width: number, height: number): Buffer {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8
  header[9] = 2
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ])
}
