import { describe, expect, it } from 'vitest'
import { describeMove, moveImage, moveImageTo } from './image-order'

describe('moving images', () => {
  it('moves one place up or down and stays put at either end', () => {
    expect(moveImage(['a', 'b', 'c'], 'c', -1)).toEqual(['a', 'c', 'b'])
    expect(moveImage(['a', 'b', 'c'], 'a', 1)).toEqual(['b', 'a', 'c'])
    expect(moveImage(['a', 'b', 'c'], 'a', -1)).toEqual(['a', 'b', 'c'])
    expect(moveImage(['a', 'b', 'c'], 'c', 1)).toEqual(['a', 'b', 'c'])
    expect(moveImage(['a', 'b'], 'x', 1)).toEqual(['a', 'b'])
  })

  it('moves to any place, clamped to the list', () => {
    expect(moveImageTo(['a', 'b', 'c', 'd'], 3, 0)).toEqual(['d', 'a', 'b', 'c'])
    expect(moveImageTo(['a', 'b', 'c', 'd'], 0, 2)).toEqual(['b', 'c', 'a', 'd'])
    expect(moveImageTo(['a', 'b', 'c'], 1, 99)).toEqual(['a', 'c', 'b'])
    expect(moveImageTo(['a', 'b', 'c'], 1, -5)).toEqual(['b', 'a', 'c'])
  })

  it('says where the image went, or why it did not move', () => {
    expect(describeMove('Image 3', 2, 3, true)).toBe('Image 3 moved to position 2 of 3.')
    expect(describeMove('Image 1', 1, 3, false)).toBe('Image 1 is already first.')
    expect(describeMove('Image 3', 3, 3, false)).toBe('Image 3 is already last.')
  })
})
