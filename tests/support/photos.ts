import sharp from 'sharp'

/** A small seeded generator (mulberry32), so every run makes the same photos. */
function random(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Pixels with a photograph's statistics: colour detail at every scale with power falling as 1/f (as in
 * natural scenes) plus a little sensor grain, so encoders spend on it what they spend on a real photo
 * (a 12 MP one comes out at 3-5 MB as a JPEG at quality 90, like a phone's). Returns raw RGB.
 */
export async function photoPixels(width: number, height: number, seed = 1) {
  const next = random(seed)
  const out = new Float32Array(width * height * 3).fill(128)
  for (let octave = 0; ; octave++) {
    const cells = 4 * 2 ** octave
    if (cells > width / 2) break
    const w = cells
    const h = Math.max(2, Math.round((cells * height) / width))
    const layer = Buffer.alloc(w * h * 3)
    for (let i = 0; i < layer.length; i++) layer[i] = Math.floor(next() * 256)
    const up = await sharp(layer, { raw: { width: w, height: h, channels: 3 } })
      .resize(width, height, { kernel: 'cubic', fit: 'fill' })
      .raw()
      .toBuffer()
    const amplitude = 0.8 / 2 ** (octave * 0.45)
    for (let i = 0; i < out.length; i++) out[i]! += (up[i]! - 128) * amplitude
  }
  const pixels = Buffer.alloc(out.length)
  for (let i = 0; i < out.length; i++) {
    pixels[i] = Math.max(0, Math.min(255, out[i]! + (next() - 0.5) * 18))
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
}

/** A camera JPEG: `width` x `height` pixels of a photo, with EXIF (make, GPS position) as phones write. */
export async function makePhoto(
  width: number,
  height: number,
  { seed = 1, quality = 90, orientation }: { seed?: number; quality?: number; orientation?: number } = {},
) {
  const image = (await photoPixels(width, height, seed)).jpeg({ quality }).withExif({
    IFD0: { Make: 'PhoneMaker', Model: 'Phone 12', Copyright: 'Somebody' },
    IFD3: {
      GPSLatitudeRef: 'N',
      GPSLatitude: '51/1 30/1 2/1',
      GPSLongitudeRef: 'W',
      GPSLongitude: '0/1 7/1 40/1',
    },
  })
  return (orientation ? image.withMetadata({ orientation }) : image).toBuffer()
}
