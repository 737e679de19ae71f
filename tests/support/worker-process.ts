import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { stopChild } from '../../server/processes'

export interface WorkerProcess {
  pid: number
  process: ChildProcess
  output: () => string
  /** Resolves with the exit code and signal once the process has exited. */
  exited: Promise<[number | null, NodeJS.Signals | null]>
  stop(): Promise<void>
}

/**
 * Runs `npm run worker` (scripts/worker.ts, without npm) on services that are already running, and
 * resolves once it says it is running: its pool is registered and taking jobs.
 */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    env: { ...process.env, MALLOC_ARENA_MAX: '2', ...env, SKIP_ENV_FILE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  let output = ''
  const running = new Promise<void>((resolve, reject) => {
    const read = (d: Buffer) => {
      output += d.toString()
      if (output.includes('[worker] running')) resolve()
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    void exited.then(([code, signal]) =>
      reject(new Error(`The worker exited (${code ?? signal}) before it ran:\n${output}`)),
    )
  })
  await running
  return { pid: child.pid!, process: child, output: () => output, exited, stop: () => stopChild(child) }
}
