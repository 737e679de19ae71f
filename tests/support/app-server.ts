import { spawn, type ChildProcess } from 'node:child_process'
import { sleep, stopChild } from '../../server/processes'

export interface AppServer {
  url: string
  process: ChildProcess
  output: () => string
  stop(): Promise<void>
}

/**
 * Runs the production server (`npm start` without npm) against services that are already running,
 * and waits until /healthz says both answer.
 */
export async function startAppServer(env: Record<string, string>): Promise<AppServer> {
  const url = `http://localhost:${env.PORT}`
  const child = spawn(
    process.execPath,
    [
      // As `npm start` runs it (package.json): a small young generation keeps a large upload's memory bounded.
      '--max-semi-space-size=2',
      ...(process.env.APP_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      'server/index.ts',
    ],
    {
      // As `npm start` sets it: two glibc malloc arenas, so libvips' threads do not each grow their own.
      env: { ...process.env, MALLOC_ARENA_MAX: '2', ...env, NODE_ENV: 'production', SKIP_ENV_FILE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The app server exited with ${child.exitCode}:\n${output}`)
    const healthy = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (healthy) break
    if (Date.now() > deadline) throw new Error(`The app server did not become healthy:\n${output}`)
    await sleep(200)
  }
  return { url, process: child, output: () => output, stop: () => stopChild(child) }
}
