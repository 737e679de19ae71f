import type { TestProject } from 'vitest/node'
import { freePort } from '../../server/processes'
import { startTestServices } from './services'

declare module 'vitest' {
  export interface ProvidedContext {
    testEnv: Record<string, string>
  }
}

export default async function setup(project: TestProject) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
  const services = await startTestServices(await freePort())
  project.provide('testEnv', services.env)
  return () => services.stop()
}
