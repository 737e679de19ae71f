import { readFileSync } from 'node:fs'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { freePort } from '../../server/processes'
import { startAppServer, type AppServer } from '../support/app-server'
import { startTestServices, type TestServices } from '../support/services'

// This spec stops services under a running app, so it has its own, not the ones the others share.
let services: TestServices
let app: AppServer

test.beforeAll(async () => {
  services = await startTestServices(await freePort())
  app = await startAppServer(services.env)
})

test.afterAll(async () => {
  await app?.stop()
  await services?.stop()
})

function kill(pidFile: string) {
  process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGKILL')
}

test('/healthz says which dependency is down, with 503, and never why', async ({ request }) => {
  test.setTimeout(60_000)
  const health = () => request.get(`${app.url}/healthz`)
  const first = await health()
  expect(first.status()).toBe(200)
  expect(await first.json()).toEqual({ database: 'ok', storage: 'ok' })

  kill(path.join(services.env.DATA_DIR!, 'ceph', 'run', 'client.rgw.pid'))
  await expect.poll(async () => (await health()).status()).toBe(503)
  // The reason (an address, a user name) goes to the server's log, never to whoever asks.
  expect(await (await health()).text()).toBe(JSON.stringify({ database: 'ok', storage: 'unavailable' }))

  kill(path.join(services.env.DATA_DIR!, 'postgres', 'postmaster.pid'))
  await expect.poll(async () => (await (await health()).json()).database).toBe('unavailable')
  const down = await health()
  expect(down.status()).toBe(503)
  expect(await down.text()).toBe(JSON.stringify({ database: 'unavailable', storage: 'unavailable' }))
  expect(app.output()).toMatch(/\[availability\] database unavailable: .+/)
})
