import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { stopChild } from '../../server/processes'

export interface DevServer {
  url: string
  /** Everything the server has printed so far. */
  output: () => string
  stop(): Promise<void>
}

/**
 * `npm run dev` as a fresh install runs it: server/index.ts under tsx with NODE_ENV unset, so Vite serves
 * the app, and an empty Vite cache (DEV_VITE_CACHE_DIR, read by vite.config.ts), so dependencies are
 * optimised from scratch on the first page. Uses services that are already running.
 */
export async function startDevServer(env: Record<string, string>): Promise<DevServer> {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'product-images-vite-'))
  // NODE_ENV unset, as in a developer's shell (the test services set it to "test").
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    MALLOC_ARENA_MAX: '2',
    ...env,
    SKIP_ENV_FILE: '1',
    DEV_VITE_CACHE_DIR: cacheDir,
    // The production server beside it runs the jobs; this one only serves pages.
    RUN_WORKER: 'false',
  }
  delete childEnv.NODE_ENV
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    env: childEnv as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const listening = new Promise<void>((resolve, reject) => {
    const read = (d: Buffer) => {
      output += d.toString()
      if (output.includes('development server on')) resolve()
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('exit', (code) => reject(new Error(`The dev server exited with ${code}:\n${output}`)))
  })
  const stop = async () => {
    await stopChild(child)
    await rm(cacheDir, { recursive: true, force: true })
  }
  try {
    await withTimeout(listening, 60_000, () => `The dev server did not start:\n${output}`)
  } catch (error) {
    await stop()
    throw error
  }
  return { url: `http://localhost:${env.PORT}`, output: () => output, stop }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string) {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
