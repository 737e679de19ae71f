import { spawn } from 'node:child_process'
import { stopChild } from '../../server/processes'

export interface Xvfb {
  /** The DISPLAY value, e.g. ":3". */
  display: string
  stop(): Promise<void>
}

/**
 * A virtual X server for WebKitGTK, which has no headless mode. `-displayfd` lets Xvfb take the first
 * free display and say which once it accepts clients, so nothing is guessed or waited for blindly.
 */
export async function startXvfb(): Promise<Xvfb> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  })
  let errors = ''
  child.stderr!.on('data', (d: Buffer) => (errors += d.toString()))
  const display = await new Promise<string>((resolve, reject) => {
    let text = ''
    child.stdio[3]!.on('data', (d: Buffer) => {
      text += d.toString()
      if (text.includes('\n')) resolve(`:${text.trim()}`)
    })
    child.once('error', (error) =>
      reject(
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? new Error('Xvfb is not installed; scripts/setup.sh installs xvfb')
          : error,
      ),
    )
    child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}: ${errors}`)))
  })
  return { display, stop: () => stopChild(child) }
}
