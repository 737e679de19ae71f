import type { DigestAnswer, DigestRequest } from './digest.worker'

/** A digest that could not be made; `unreadable` when the browser could not read the file itself. */
export class DigestError extends Error {
  constructor(
    message: string,
    readonly unreadable: boolean,
  ) {
    super(message)
  }
}

type Job = DigestRequest & { key: string; resolve: (md5: string) => void; reject: (error: Error) => void }

/**
 * MD5 digests of ranges of files (a single PUT's whole file, a part of a multipart one), made in a Web
 * Worker (digest.worker.ts) one range at a time. Each range is hashed once per `key` and remembered
 * until forgotten, so a retry signs with the digest of the bytes it sends again from the file. Ranges
 * are hashed in the order asked for, except that an `urgent` one (a request the uploader is waiting
 * for) goes before every range still waiting.
 */
export class FileDigests {
  #worker: Worker | null = null
  #waiting: Job[] = []
  #running: Job | null = null
  readonly #known = new Map<string, Promise<string>>()
  #nextId = 1

  constructor(
    private readonly createWorker = () =>
      new Worker(new URL('./digest.worker.ts', import.meta.url), { type: 'module' }),
  ) {}

  /** The lowercase hex MD5 of `file` from `start` to `end`, remembered as `key`. */
  digest(key: string, file: Blob, start: number, end: number, { urgent = false } = {}): Promise<string> {
    const known = this.#known.get(key)
    if (known) {
      if (urgent) this.#hurry(key)
      return known
    }
    const promise = new Promise<string>((resolve, reject) => {
      const job = { id: this.#nextId++, key, file, start, end, resolve, reject }
      if (urgent) this.#waiting.unshift(job)
      else this.#waiting.push(job)
    })
    this.#known.set(key, promise)
    // A failed digest is made again when next asked for (after a worker that could not start, say).
    promise.catch(() => {
      if (this.#known.get(key) === promise) this.#known.delete(key)
    })
    this.#next()
    return promise
  }

  /** Forgets the digests whose keys start with `prefix` and drops those still waiting. */
  forget(prefix: string) {
    for (const key of [...this.#known.keys()]) if (key.startsWith(prefix)) this.#known.delete(key)
    const dropped = this.#waiting.filter((job) => job.key.startsWith(prefix))
    this.#waiting = this.#waiting.filter((job) => !job.key.startsWith(prefix))
    for (const job of dropped) job.reject(new DigestError('The file was removed.', false))
  }

  /** Stops the worker; what was waiting fails. */
  dispose() {
    this.#fail(new DigestError('The uploader was closed.', false))
    this.#known.clear()
  }

  #hurry(key: string) {
    const at = this.#waiting.findIndex((job) => job.key === key)
    if (at > 0) this.#waiting.unshift(...this.#waiting.splice(at, 1))
  }

  #next() {
    if (this.#running || this.#waiting.length === 0) return
    const job = this.#waiting.shift()!
    this.#running = job
    try {
      this.#worker ??= this.#start()
    } catch (error) {
      this.#fail(new DigestError(`The file could not be checked in this browser (${String(error)}).`, false))
      return
    }
    this.#worker.postMessage({
      id: job.id,
      file: job.file,
      start: job.start,
      end: job.end,
    } satisfies DigestRequest)
  }

  #start() {
    const worker = this.createWorker()
    worker.onmessage = ({ data }: MessageEvent<DigestAnswer>) => {
      const job = this.#running
      if (!job || job.id !== data.id) return
      this.#running = null
      if ('md5' in data) job.resolve(data.md5)
      else job.reject(new DigestError(data.error, data.unreadable))
      this.#next()
    }
    // The script did not load or run (the CSP, a network failure): every range waiting fails now.
    worker.onerror = (event) => {
      event.preventDefault()
      this.#fail(new DigestError(`The file could not be checked in this browser (${event.message}).`, false))
    }
    return worker
  }

  #fail(error: DigestError) {
    this.#worker?.terminate()
    this.#worker = null
    const jobs = [...(this.#running ? [this.#running] : []), ...this.#waiting]
    this.#running = null
    this.#waiting = []
    for (const job of jobs) job.reject(error)
  }
}
