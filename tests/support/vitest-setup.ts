import { inject } from 'vitest'

// Every test file sees the addresses of the services started once by the global setup.
Object.assign(process.env, inject('testEnv'))
