import http from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { limitRequestBodies, requestTimeoutMs } from '../../server/body-limits'

// The app server's body limits on a bare Express app whose routes read every body they get.
let server: http.Server
let port: number
let bytesRead = 0
beforeAll(async () => {
  const app = express()
  limitRequestBodies(app)
  app.post('*', (req, res) => {
    req.on('data', (chunk: Buffer) => (bytesRead += chunk.length))
    req.on('end', () => res.send('read'))
  })
  server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(() => server.close())

/** Sends headers claiming `declared` bytes, then writes `sent` bytes; resolves with the answer. */
function post(path: string, headers: Record<string, string>, sent: number) {
  return new Promise<{ status: number; body: string; contentType: string }>((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers }, (response) => {
      let body = ''
      response.on('data', (d: Buffer) => (body += d.toString()))
      response.on('end', () =>
        resolve({
          status: response.statusCode!,
          body,
          contentType: String(response.headers['content-type']),
        }),
      )
    })
    request.on('error', reject)
    request.write(Buffer.alloc(sent, 'a'))
    // The rest of a huge body is never sent: the answer must come from the headers alone.
    if (headers['Transfer-Encoding'] !== 'chunked' && Number(headers['Content-Length']) === sent)
      request.end()
  })
}

describe('request bodies are bounded before they are read', () => {
  it('refuses a sign-in claiming 100 MiB with 413 and a message, having read none of it', async () => {
    bytesRead = 0
    const answer = await post(
      '/login',
      { 'Content-Length': String(100 * 1024 * 1024), 'Content-Type': 'application/x-www-form-urlencoded' },
      64 * 1024,
    )
    expect(answer).toMatchObject({
      status: 413,
      body: 'A sign-in form may be at most 8 KiB; this one is 100 MiB.',
    })
    expect(bytesRead).toBe(0)
  })

  it('answers the signing route in JSON, as its callers expect', async () => {
    const answer = await post(
      '/uploads/sign',
      { 'Content-Length': String(2 * 1024 * 1024), 'Content-Type': 'application/json' },
      1024,
    )
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body)).toEqual({
      error: 'A signing request may be at most 1 MiB; this one is 2 MiB.',
    })
  })

  it('bounds URL-encoded forms on every route, single-fetch URLs included', async () => {
    const answer = await post(
      '/products/new.data',
      { 'Content-Length': String(5 * 1024 * 1024), 'Content-Type': 'application/x-www-form-urlencoded' },
      1024,
    )
    expect(answer).toMatchObject({ status: 413, body: 'A form may be at most 1 MiB; this one is 5 MiB.' })
  })

  it('asks for a length when a bounded body comes chunked', async () => {
    const answer = await post('/logout', { 'Transfer-Encoding': 'chunked' }, 10)
    expect(answer).toMatchObject({ status: 411 })
  })

  it('lets bodies within their bound through, and multipart uploads stream as before', async () => {
    expect(
      (
        await post(
          '/login',
          { 'Content-Length': '100', 'Content-Type': 'application/x-www-form-urlencoded' },
          100,
        )
      ).body,
    ).toBe('read')
    expect(
      (
        await post(
          '/products/new',
          { 'Content-Length': String(3 * 1024 * 1024), 'Content-Type': 'multipart/form-data; boundary=x' },
          3 * 1024 * 1024,
        )
      ).body,
    ).toBe('read')
  })
})

describe('the request timeout', () => {
  it('fits the largest form the limits allow over a 1 MiB/s link, and never drops under five minutes', () => {
    const MiB = 1024 * 1024
    // The defaults: 20 images of 32 MiB take 640 s at 1 MiB/s.
    expect(requestTimeoutMs({ maxImages: 20, maxImageBytes: 32 * MiB })).toBe(640_000)
    expect(requestTimeoutMs({ maxImages: 2, maxImageBytes: MiB })).toBe(300_000)
  })
})
