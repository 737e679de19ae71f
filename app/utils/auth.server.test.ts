import { describe, expect, it } from 'vitest'
import { safeRedirect } from './auth.server'

const origin = 'https://admin.shop.example'
const go = (to: string | null) => safeRedirect(to, { origin })

describe('safeRedirect', () => {
  it('keeps paths of the app, with their query and hash', () => {
    expect(go('/products/new')).toBe('/products/new')
    expect(go('/products?after=1_2#top')).toBe('/products?after=1_2#top')
    expect(go(`${origin}/products/x`)).toBe('/products/x')
  })

  it.each([
    'https://evil.example/products',
    '//evil.example/products',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/%2F%2Fevil.example',
    '/%5Cevil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/products\r\nSet-Cookie: x=1',
    'javascript:alert(1)',
    'data:text/html,hi',
    'http://admin.shop.example/products',
    'https://admin.shop.example.evil.example/',
    'https://admin.shop.example@evil.example/',
    '/%E0%A4%A',
    '',
  ])('sends %j to the fallback', (to) => {
    expect(go(to)).toBe('/products')
  })

  it('falls back when nothing or no string was given', () => {
    expect(go(null)).toBe('/products')
    expect(safeRedirect(undefined, { origin, fallback: '/login' })).toBe('/login')
  })
})
