import { readFileSync } from 'node:fs'
import sharp, { type Sharp } from 'sharp'
import { describe, expect, it } from 'vitest'
import { decodeHeic, HeicDecodeError, withIccProfile } from './heic-decoder.server'

const corpus = (file: string) => readFileSync(`tests/fixtures/corpus/heic/${file}`)
const limits = { maxPixels: 50_000_000, timeoutMs: 30_000 }

/** Mean saturation (max - min of R, G, B) of an image's pixels, from a small copy. */
async function saturation(image: Sharp) {
  const { data, info } = await image
    .resize(64, 64, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  let sum = 0
  for (let i = 0; i < data.length; i += info.channels) {
    sum += Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!)
  }
  return sum / (data.length / info.channels)
}

describe('decodeHeic', () => {
  it('decodes the primary image only, turned as its container says, once', async () => {
    // An iPhone XR portrait: a 4032 x 3024 grid with irot, and an EXIF orientation that says the same.
    const { width, height, image } = await decodeHeic(corpus('iphone-xr-irot.heic'), limits)
    expect([width, height]).toEqual([3024, 4032])
    expect(await image.metadata()).toMatchObject({ width: 3024, height: 4032 })
    // A Galaxy S24 FE: its EXIF says "rotate 90", its container does not turn it; the container wins.
    expect(await decodeHeic(corpus('samsung-galaxy-s24fe.heic'), limits)).toMatchObject({
      width: 4000,
      height: 1848,
    })
  })

  it('keeps transparency, and skips the thumbnail stored beside the image', async () => {
    const { width, height, hasAlpha, image } = await decodeHeic(corpus('libheif-alpha.heic'), limits)
    expect({ width, height, hasAlpha }).toEqual({ width: 512, height: 512, hasAlpha: true })
    const { data } = await image.extractChannel(3).raw().toBuffer({ resolveWithObject: true })
    expect(data.some((alpha) => alpha < 255)).toBe(true)
  })

  it('converts the Display P3 of an iPhone photo to sRGB rather than reading it as sRGB', async () => {
    const { image } = await decodeHeic(corpus('iphone-11-pro-exif-at-eof.heic'), limits)
    const converted = image.clone().toColourspace('srgb')
    // The decoded numbers as they are, still in Display P3.
    const asIs = image.clone().keepIccProfile()
    // The same colour written in sRGB's smaller gamut takes more extreme numbers.
    expect(await saturation(converted)).toBeGreaterThan((await saturation(asIs)) * 1.03)
  })

  it('refuses an image over the pixel limit before decoding it', async () => {
    const started = performance.now()
    const refused = decodeHeic(corpus('samsung-galaxy-s10.heic'), {
      maxPixels: 12_000_000,
      timeoutMs: 30_000,
    })
    await expect(refused).rejects.toBeInstanceOf(HeicDecodeError)
    await expect(refused).rejects.toMatchObject({ reason: 'too-many-pixels' })
    // Well under the 0.5-0.9 s a 12 MP HEIC takes to decode here.
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('stops a decode that takes too long, with a reason', async () => {
    await expect(
      decodeHeic(corpus('samsung-galaxy-s10.heic'), { maxPixels: 50_000_000, timeoutMs: 20 }),
    ).rejects.toMatchObject({ reason: 'timeout' })
  })

  it('says a file is damaged when it is cut short', async () => {
    await expect(
      decodeHeic(readFileSync('tests/fixtures/corpus/hostile/truncated.heic'), limits),
    ).rejects.toMatchObject({ reason: 'damaged' })
  })
})

describe('withIccProfile', () => {
  it('gives a PNG the profile, which sharp then reads', async () => {
    const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#808080' } })
      .png()
      .toBuffer()
    const icc = (await sharp(await sharp(png).withIccProfile('p3').png().toBuffer()).metadata()).icc!
    const tagged = withIccProfile(png, icc)
    expect((await sharp(tagged).metadata()).icc?.equals(icc)).toBe(true)
  })
})
