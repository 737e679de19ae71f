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
    await expect(refused).rejects.toThrow(
      'It has more pixels than the 0.1 MP limit (all frames counted): export it smaller and add it again.',
    )
    const made = await makeVariants(gif, { maxPixels: 150_000 })
    expect(made.variants.map((v) => [v.width, v.height])).toEqual([[200, 200]])
  })

  it('refuses data that is not an image in words, keeping the decoder’s reason for the log', async () => {
    const refused = await makeVariants(Buffer.from('GIF89a but nothing else'), { maxPixels: 1e6 }).catch(
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(UnprocessableImageError)
    expect((refused as UnprocessableImageError).message).toBe(
      'It is damaged or incomplete: export or download it again, then add it.',
    )
    expect((refused as UnprocessableImageError).detail).toMatch(/gif|buffer|input/i)
  })
})
