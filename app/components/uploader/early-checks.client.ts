import { MAX_CHECK_BATCH } from '~/uploads/limits'

/** The longest a finished upload waits for its check while other files are still uploading. */
export const CHECK_WAIT_MS = 2_000

/**
 * Sends finished uploads to POST /uploads/check, where the server checks them and starts making their
 * variants while the admin types. The references go together: at once when nothing else is uploading,
 * else when the oldest has waited CHECK_WAIT_MS, at most MAX_CHECK_BATCH a call. One call per drop
 * instead of one per file, and no server work in the way of the uploads still running (on a machine
 * whose browser, S3 and app share two cores, checking each file as it finished took the batch 1.24x as
 * long). The answers are not awaited: the save checks every image again and reports what is wrong with
 * the rest of the form. `uploading` says whether any file is still uploading.
 */
export class EarlyChecks {
  #pending: string[] = []
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly uploading: () => boolean,
    private readonly post: (refs: string[]) => void = postChecks,
    private readonly waitMs = CHECK_WAIT_MS,
  ) {}

  /** A file has finished uploading; `ref` is the reference its form field will carry. */
  add(ref: string) {
    this.#pending.push(ref)
    if (!this.uploading()) this.flush()
    else this.#timer ??= setTimeout(() => this.flush(), this.waitMs)
  }

  /** Sends what waits if no file is uploading any more (call it when an upload ends, well or not). */
  settled() {
    if (!this.uploading()) this.flush()
  }

  flush() {
    this.#stopTimer()
    const refs = this.#pending.splice(0)
    for (let i = 0; i < refs.length; i += MAX_CHECK_BATCH) this.post(refs.slice(i, i + MAX_CHECK_BATCH))
  }

  /** Forgets what waits: the page is going away, and a save checks its images itself. */
  dispose() {
    this.#stopTimer()
    this.#pending = []
  }

  #stopTimer() {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}

function postChecks(refs: string[]) {
  fetch('/uploads/check', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refs }),
    credentials: 'same-origin',
  }).catch(() => {})
}
