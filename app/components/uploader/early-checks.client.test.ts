import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MAX_CHECK_BATCH } from '~/uploads/limits'
import { CHECK_WAIT_MS, EarlyChecks } from './early-checks.client'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

function checksWith(uploading: { now: boolean }) {
  const posted: string[][] = []
  const checks = new EarlyChecks(
    () => uploading.now,
    (refs) => posted.push(refs),
  )
  return { checks, posted }
}

describe('EarlyChecks sends finished uploads to the server in batches', () => {
  it('sends a finished upload at once when nothing else is uploading', () => {
    const { checks, posted } = checksWith({ now: false })
    checks.add('a')
    expect(posted).toEqual([['a']])
  })

  it('holds the uploads that finish while others run, and sends them together when the last one ends', () => {
    const uploading = { now: true }
    const { checks, posted } = checksWith(uploading)
    checks.add('a')
    checks.add('b')
    checks.settled()
    expect(posted).toEqual([])
    uploading.now = false
    checks.add('c')
    expect(posted).toEqual([['a', 'b', 'c']])
    vi.advanceTimersByTime(CHECK_WAIT_MS * 2)
    expect(posted).toHaveLength(1)
  })

  it('sends when an upload fails and nothing else is running, so a failure does not strand the others', () => {
    const uploading = { now: true }
    const { checks, posted } = checksWith(uploading)
    checks.add('a')
    uploading.now = false
    checks.settled()
    expect(posted).toEqual([['a']])
  })

  it('never holds a finished upload longer than CHECK_WAIT_MS during a long batch', () => {
    const { checks, posted } = checksWith({ now: true })
    checks.add('a')
    vi.advanceTimersByTime(CHECK_WAIT_MS / 2)
    checks.add('b')
    vi.advanceTimersByTime(CHECK_WAIT_MS / 2 - 1)
    expect(posted).toEqual([])
    vi.advanceTimersByTime(1)
    expect(posted).toEqual([['a', 'b']])
    checks.add('c')
    vi.advanceTimersByTime(CHECK_WAIT_MS)
    expect(posted).toEqual([['a', 'b'], ['c']])
  })

  it('splits what the route takes in one call', () => {
    const { checks, posted } = checksWith({ now: true })
    const refs = Array.from({ length: MAX_CHECK_BATCH + 3 }, (_, i) => `r${i}`)
    for (const ref of refs) checks.add(ref)
    checks.flush()
    expect(posted.map((batch) => batch.length)).toEqual([MAX_CHECK_BATCH, 3])
    expect(posted.flat()).toEqual(refs)
  })

  it('forgets what waits when the uploader goes away', () => {
    const { checks, posted } = checksWith({ now: true })
    checks.add('a')
    checks.dispose()
    vi.advanceTimersByTime(CHECK_WAIT_MS * 2)
    expect(posted).toEqual([])
  })
})
