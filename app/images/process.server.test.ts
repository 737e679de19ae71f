import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { makeVariants, UnprocessableImageError } from './process.server'

const frame = (colour: string) =>
  sharp({ create: { width: 200, height: 200, channels: 3, background: colour } })
    .png()
    .toBuffer()

describe('makeVariants', () => {
  it('bounds the decoder by the pixel limit, every frame of an animation counted', async () => {
    // Each frame (40,000 px) is within 100,000; the three frames together (120,000) are not.
    const gif = await sharp([await frame('#f00'), await frame('#0f0'), await frame('#00f')], {
      join: { animated: true },
    })
      .gif()
      .toBuffer()
    const refused = makeVariants(gif, { maxPixels: 100_000 })
    await expect(refused).rejects.toBeInstanceOf(UnprocessableImageError)
    await expect(refused).rejects.toThrow('It has more pixels than the 0.1 MP limit (all frames counted).')
    const made = await makeVariants(gif, { maxPixels: 150_000 })
    expect(made.variants.map((v) => [v.width, v.height])).toEqual([[200, 200]])
  })

  it('refuses data that is not an image with the decoder’s reason', async () => {
    await expect(makeVariants(Buffer.from('GIF89a but nothing else'), { maxPixels: 1e6 })).rejects.toThrow(
      /^Its data could not be decoded \(|^Its data is truncated \(/,
    )
  })
})
