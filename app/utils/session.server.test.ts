import { describe, expect, it } from 'vitest'
import { sessionCookieFor } from './session.server'

describe('sessionCookieFor', () => {
  it('an https APP_ORIGIN gets a __Host- cookie, which browsers keep only when Secure', () => {
    expect(sessionCookieFor('https://admin.shop.example')).toEqual({ name: '__Host-session', secure: true })
    expect(sessionCookieFor('https://localhost:3000')).toEqual({ name: '__Host-session', secure: true })
  })

  it('an http one (localhost) gets __session without Secure, which WebKit would not store over http', () => {
    expect(sessionCookieFor('http://localhost:3000')).toEqual({ name: '__session', secure: false })
    expect(sessionCookieFor('http://127.0.0.1:8080')).toEqual({ name: '__session', secure: false })
  })
})
