import { describe, expect, it } from 'vitest'
import { formatPrice, ProductFieldsSchema } from './product-schema'

const parse = (price: string) => ProductFieldsSchema.safeParse({ name: 'Mug', price, description: '' })

describe('ProductFieldsSchema', () => {
  it.each([
    ['19.99', 1999],
    ['19.9', 1990],
    ['19', 1900],
    ['0.05', 5],
    ['19,99', 1999],
    [' 7.50 ', 750],
  ])('reads the price %j as %i cents', (price, cents) => {
    expect(parse(price)).toMatchObject({ success: true, data: { price: cents } })
  })

  it.each(['', 'abc', '19.999', '-1', '1e3', '12345678'])('refuses the price %j with a message', (price) => {
    const result = parse(price)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0]?.message).toMatch(/price/i)
  })

  it('requires a name and trims it', () => {
    expect(ProductFieldsSchema.safeParse({ name: '   ', price: '1' }).error?.issues[0]?.message).toBe(
      'Enter a name.',
    )
    expect(ProductFieldsSchema.parse({ name: '  Mug ', price: '1' }).name).toBe('Mug')
  })

  it('formats cents back to the form value', () => {
    expect(formatPrice(1999)).toBe('19.99')
    expect(formatPrice(5)).toBe('0.05')
  })
})
