/// <reference lib="webworker" />
import { createMD5 } from 'hash-wasm'

/**
 * Computes the MD5 of a range of a file, off the page's main thread, with hash-wasm's WebAssembly MD5:
 * the range is read in slices of READ_BYTES (Blob.slice), so memory stays bounded however large the
 * file. One range at a time, in the order asked. Answers `{ id, md5 }` (lowercase hex) or
 * `{ id, error, unreadable }` (`unreadable`: the browser could not read the file, e.g. it changed on disk).
 * Its script is served with 'wasm-unsafe-eval' in script-src, which the page itself never gets
 * (server/security.ts).
 */
export type DigestRequest = { id: number; file: Blob; start: number; end: number }
export type DigestAnswer = { id: number; md5: string } | { id: number; error: string; unreadable: boolean }

const READ_BYTES = 4 * 1024 * 1024
const scope = self as unknown as DedicatedWorkerGlobalScope
// Compiled once for the worker's life; each range starts it afresh with init().
const md5 = createMD5()
let queue = Promise.resolve()

scope.onmessage = ({ data }: MessageEvent<DigestRequest>) => {
  queue = queue.then(async () => scope.postMessage(await digest(data)))
}

async function digest({ id, file, start, end }: DigestRequest): Promise<DigestAnswer> {
  try {
    const hasher = (await md5).init()
    for (let at = start; at < end; at += READ_BYTES) {
      const slice = file.slice(at, Math.min(at + READ_BYTES, end))
      hasher.update(new Uint8Array(await slice.arrayBuffer()))
    }
    return { id, md5: hasher.digest('hex') }
  } catch (error) {
    const name = error instanceof Error ? error.name : ''
    return {
      id,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      unreadable: name === 'NotReadableError' || name === 'NotFoundError',
    }
  }
}
