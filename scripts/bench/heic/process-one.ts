/**
 * Child process of the HEIC benchmark: makes the variants of one file `runs` times after a warm-up, and
 * prints its wall and CPU time per run (all threads: libheif's worker and libvips' pool) and its resident
 * memory before and at its peak, sampled every 10 ms.
 *   tsx scripts/bench/heic/process-one.ts <file> <runs>
 */
import { readFileSync } from 'node:fs'
import { makeVariants } from '../../../app/images/process.server'

const [file, runs = '3'] = process.argv.slice(2)
const input = readFileSync(file!)
await makeVariants(input, { maxPixels: 50e6 })
global.gc?.()
await new Promise((resolve) => setTimeout(resolve, 200))
const rssBefore = process.memoryUsage.rss()
let rssPeak = rssBefore
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 10)
const wallMs: number[] = []
const cpuMs: number[] = []
for (let i = 0; i < Number(runs); i++) {
  const started = performance.now()
  const cpu = process.cpuUsage()
  await makeVariants(input, { maxPixels: 50e6 })
  const used = process.cpuUsage(cpu)
  wallMs.push(performance.now() - started)
  cpuMs.push((used.user + used.system) / 1000)
}
clearInterval(sampler)
console.log(JSON.stringify({ wallMs, cpuMs, rssBefore, rssPeak }))
