import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { alias: { '~': new URL('./app', import.meta.url).pathname } },
  test: {
    include: ['app/**/*.test.ts', 'tests/integration/**/*.test.ts'],
    globalSetup: ['tests/support/vitest-global-setup.ts'],
    setupFiles: ['tests/support/vitest-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The files share one database and bucket; each test makes its own rows and keys.
    fileParallelism: true,
    pool: 'forks',
  },
})
