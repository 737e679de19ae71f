import { describe, expect, it } from 'vitest'
import { heifHead } from '../../tests/support/heif'
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

/** A HEIF file's first bytes: these brands, one primary image item of `type`. */
function heif(brands: string[], type = 'hvc1', width = 8, height = 8) {
  return heifHead({ brands, items: [{ id: 1, type, width, height }], primary: 1 })
}

function avif(width: number, height: number) {
  return heif(['avif', 'mif1', 'miaf'], 'av01', width, height)
}

describe('detectImageType', () => {
  it.each([
    ['image/png', makePng(2, 2)],
    ['image/gif', makeGif(3, 4)],
    ['image/jpeg', jpeg(10, 20)],
    ['image/webp', webpVp8x(640, 480)],
    ['image/avif', avif(800, 600)],
    ['image/heic', heif(['heic', 'mif1'], 'hvc1')],
    ['image/heic', heif(['mif1', 'heic'], 'hvc1')],
    ['image/heif', heif(['mif1', 'miaf'], 'hvc1')],
    ['image/avif', heif(['avis', 'msf1'], 'av01')],
  ])('recognises %s by its first bytes', (type, bytes) => {
    expect(detectImageType(bytes)).toBe(type)
  })

  it.each([
    ['HTML renamed .png', Buffer.from('<!doctype html><html><body>hi</body></html>')],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>')],
    ['PDF', Buffer.from('%PDF-1.7\n%...')],
    ['an MP4 video', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypisom\0\0\0\0isomavc1')])],
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

  it('reads a HEIC’s primary image, not the thumbnail listed before it, turned as its irot says', () => {
    const head = heifHead({
      brands: ['heic', 'mif1'],
      items: [
        { id: 2, type: 'hvc1', width: 320, height: 240 },
        { id: 1, type: 'grid', width: 4032, height: 3024, rotate: 1 },
      ],
      primary: 1,
    })
    expect(sniffImage(head)).toEqual({ type: 'image/heic', width: 3024, height: 4032 })
  })

  it('gives no size for a HEIF whose boxes are cut short', () => {
    const head = heifHead({
      brands: ['heic'],
      items: [{ id: 1, type: 'hvc1', width: 640, height: 480 }],
      primary: 1,
    })
    expect(detectImageType(head.subarray(0, 60))).toBe('image/heic')
    expect(sniffImage(head.subarray(0, 60))).toBeNull()
  })

  it('refuses an image whose header is cut short', () => {
    expect(sniffImage(makePng(300, 200).subarray(0, 12))).toBeNull()
  })
})
