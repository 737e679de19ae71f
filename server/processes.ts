import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import net from 'node:net'

/** Runs a command to completion; rejects with its output when it fails or outlives `timeoutMs`. */
export function run(
  command: string,
  args: string[],
  { timeoutMs = 60_000, cwd }: { timeoutMs?: number; cwd?: string } = {},
) {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error(`${command} is not installed (see README: Quick start installs it)`)
          : error,
      )
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(output)
      else
        reject(
          new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`),
        )
    })
  })
}

export function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function waitForExit(pid: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (isAlive(pid) && Date.now() < deadline) await sleep(50)
  return !isAlive(pid)
}

/** Stops a process politely, then firmly. */
export async function stopPid(pid: number, timeoutMs = 10_000) {
  if (!isAlive(pid)) return
  process.kill(pid, 'SIGTERM')
  if (!(await waitForExit(pid, timeoutMs))) {
    process.kill(pid, 'SIGKILL')
    await waitForExit(pid, 2_000)
  }
}

export async function stopChild(child: ChildProcess, timeoutMs = 10_000) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  await stopPid(child.pid, timeoutMs)
}

/** The pid in a pid file if that process is alive and its command line mentions `marker`. */
export async function livePidFromFile(pidFile: string, marker: string): Promise<number | null> {
  const text = await readFile(pidFile, 'utf8').catch(() => null)
  const pid = Number(text?.trim().split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
  return cmdline.includes(marker) ? pid : null
}

export function isPortFree(port: number, host = '127.0.0.1') {
  return new Promise<boolean>((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })
}

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

export function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
