import { describe, expect, it } from 'vitest'
import { makeGif, makePng } from '../../tests/support/images'
import { detectImageType, sniffImage } from './sniff'

function jpeg(width: number, height: number) {
  // SOI, an APP0 segment, then SOF0 with the frame size.
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...Buffer.from('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]
  const sof = [0xff, 0xc0, 0x00, 0x11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3]
  return Uint8Array.from([0xff, 0xd8, ...app0, ...sof, ...new Array(9).fill(0), 0xff, 0xd9])
}

function webpVp8x(width: number, height: number) {
  const b = Buffer.alloc(30)
  b.write('RIFF', 0, 'ascii')
  b.writeUInt32LE(22, 4)
  b.write('WEBPVP8X', 8, 'ascii')
  b.writeUInt32LE(10, 16)
  b.writeUIntLE(width - 1, 24, 3)
  b.writeUIntLE(height - 1, 27, 3)
  return b
}

function avif(width: number, height: number) {
  const box = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(8 + body.length)
    head.write(type, 4, 'ascii')
    return Buffer.concat([head, body])
  }
  const ftyp = box('ftyp', Buffer.from('avif\0\0\0\0mif1miaf', 'binary'))
  const ispeBody = Buffer.alloc(12)
  ispeBody.writeUInt32BE(width, 4)
  ispeBody.writeUInt32BE(height, 8)
  const meta = box('meta', Buffer.concat([Buffer.alloc(4), box('iprp', box('ipco', box('ispe', ispeBody)))]))
  return Buffer.concat([ftyp, meta])
}

describe('detectImageType', () => {
  it.each([
    ['image/png', makePng(2, 2)],
    ['image/gif', makeGif(3, 4)],
    ['image/jpeg', jpeg(10, 20)],
    ['image/webp', webpVp8x(640, 480)],
    ['image/avif', avif(800, 600)],
  ])('recognises %s by its first bytes', (type, bytes) => {
    expect(detectImageType(bytes)).toBe(type)
  })

  it.each([
    ['HTML renamed .png', Buffer.from('<!doctype html><html><body>hi</body></html>')],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>')],
    ['PDF', Buffer.from('%PDF-1.7\n%...')],
    ['HEIC (not AVIF)', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic')])],
    ['empty file', Buffer.alloc(0)],
    ['a lone JPEG marker', Buffer.from([0xff, 0xd8])],
  ])('refuses %s', (_, bytes) => {
    expect(detectImageType(bytes)).toBeNull()
  })
})

describe('sniffImage', () => {
  it.each([
    ['PNG', makePng(300, 200), 300, 200],
    ['GIF', makeGif(33, 44), 33, 44],
    ['JPEG', jpeg(1024, 768), 1024, 768],
    ['WebP', webpVp8x(640, 480), 640, 480],
    ['AVIF', avif(800, 600), 800, 600],
  ])('reads the dimensions of a %s', (_, bytes, width, height) => {
    expect(sniffImage(bytes)).toMatchObject({ width, height })
  })

  it('refuses an image whose header is cut short', () => {
    expect(sniffImage(makePng(300, 200).subarray(0, 12))).toBeNull()
  })
})
