import { describe, expect, it } from 'vitest'
import { isAllowedMutationOrigin, type OriginFacts } from './origin'

const base: OriginFacts = {
  method: 'POST',
  origin: 'http://localhost:3000',
  fetchSite: 'same-origin',
  requestOrigin: 'http://localhost:3000',
  appOrigin: 'https://admin.shop.example',
}

describe('isAllowedMutationOrigin', () => {
  it('allows posts from the app itself, as received or behind its public address', () => {
    expect(isAllowedMutationOrigin(base)).toBe(true)
    expect(isAllowedMutationOrigin({ ...base, origin: 'https://admin.shop.example' })).toBe(true)
  })

  it('refuses posts from another site', () => {
    expect(
      isAllowedMutationOrigin({ ...base, origin: 'https://evil.example', fetchSite: 'cross-site' }),
    ).toBe(false)
    expect(isAllowedMutationOrigin({ ...base, origin: 'null' })).toBe(false)
    expect(isAllowedMutationOrigin({ ...base, origin: null, fetchSite: 'cross-site' })).toBe(false)
  })

  it('lets safe methods and non-browser clients through', () => {
    expect(isAllowedMutationOrigin({ ...base, method: 'GET', origin: 'https://evil.example' })).toBe(true)
    expect(isAllowedMutationOrigin({ ...base, origin: null, fetchSite: null })).toBe(true)
  })
})
