import { describe, expect, it } from 'vitest'
import { isAllowedMutationOrigin, normalizeHost, type OriginFacts } from './origin'

const base: OriginFacts = {
  method: 'POST',
  origin: 'https://admin.shop.example',
  fetchSite: 'same-origin',
  appOrigin: 'https://admin.shop.example',
}

describe('isAllowedMutationOrigin', () => {
  it('allows posts from APP_ORIGIN, whatever address the request reached the server at', () => {
    expect(isAllowedMutationOrigin(base)).toBe(true)
  })

  it('refuses posts from another site, even one whose Host names that site too', () => {
    expect(
      isAllowedMutationOrigin({ ...base, origin: 'https://evil.example', fetchSite: 'cross-site' }),
    ).toBe(false)
    // The server's own address as reached through a proxy is not the app's address.
    expect(isAllowedMutationOrigin({ ...base, origin: 'http://localhost:3000' })).toBe(false)
    expect(isAllowedMutationOrigin({ ...base, origin: 'null' })).toBe(false)
    expect(isAllowedMutationOrigin({ ...base, origin: null, fetchSite: 'cross-site' })).toBe(false)
  })

  it('takes the other loopback name of a localhost APP_ORIGIN as the app, and no other', () => {
    const local = { ...base, appOrigin: 'http://localhost:3000' }
    expect(isAllowedMutationOrigin({ ...local, origin: 'http://127.0.0.1:3000' })).toBe(true)
    expect(isAllowedMutationOrigin({ ...local, origin: 'http://127.0.0.1:3001' })).toBe(false)
    expect(isAllowedMutationOrigin({ ...local, origin: 'http://localhost.evil.example:3000' })).toBe(false)
  })

  it('lets safe methods and non-browser clients through', () => {
    expect(isAllowedMutationOrigin({ ...base, method: 'GET', origin: 'https://evil.example' })).toBe(true)
    expect(isAllowedMutationOrigin({ ...base, origin: null, fetchSite: null })).toBe(true)
  })
})

describe('normalizeHost', () => {
  it('drops the scheme’s default port and case', () => {
    expect(normalizeHost('Shop.Example:443', 'https:')).toBe('shop.example')
    expect(normalizeHost('shop.example:80', 'http:')).toBe('shop.example')
    expect(normalizeHost('localhost:3000', 'http:')).toBe('localhost:3000')
  })
})
