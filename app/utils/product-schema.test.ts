import { describe, expect, it } from 'vitest'
import { parseWithZod } from '@conform-to/zod/v4'
import { formatPrice, ProductEditorSchema, ProductFieldsSchema } from './product-schema'

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

describe('ProductEditorSchema, as Conform parses a submitted form', () => {
  const id = '0b6c2f1e-4a8b-4c3d-9e5f-1a2b3c4d5e6f'
  const form = (fields: [string, string][]) => {
    const data = new FormData()
    for (const [name, value] of fields) data.append(name, value)
    return parseWithZod(data, { schema: ProductEditorSchema })
  }

  it('reads one saved image as a list, and the controls that never fail a form', () => {
    const sent = form([
      ['name', 'Mug'],
      ['price', '4.50'],
      ['imageId', id],
      [`imageAlt.${id}`, '  A mug  '],
      ['idempotencyKey', 'not-a-key'],
      ['version', 'seven'],
      ['move', `${id}:sideways`],
    ])
    expect(sent.status).toBe('success')
    expect(sent.status === 'success' && sent.value).toMatchObject({
      name: 'Mug',
      price: 450,
      description: '',
      imageId: [id],
      imageAlt: { [id]: 'A mug' },
      imageRef: [],
      removeImage: [],
      idempotencyKey: undefined,
      version: undefined,
      move: undefined,
    })
  })

  it("puts each problem under its field's name, an alt text's under imageAlt.<id>", () => {
    const sent = form([
      ['name', ''],
      ['price', '1'],
      [`imageAlt.${id}`, 'x'.repeat(501)],
    ])
    expect(sent.reply().error).toEqual({
      name: ['Enter a name.'],
      [`imageAlt.${id}`]: ['Keep the alt text under 500 characters.'],
    })
  })
})
