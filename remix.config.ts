import type { VitePluginConfig } from '@remix-run/dev'

/**
 * The Remix plugin options. The Vite plugin does not read this file by itself:
 * vite.config.ts imports it, so the options live in the conventional place.
 */
export const remixConfig = {
  appDirectory: 'app',
  buildDirectory: 'build',
  // Tests, dotfiles, and modules a route shares with others (`__product-editor`) are not routes.
  ignoredRouteFiles: ['**/*.test.ts', '**/*.test.tsx', '**/.*', '**/__*.*'],
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_lazyRouteDiscovery: true,
    v3_singleFetch: true,
  },
} satisfies VitePluginConfig

declare module '@remix-run/node' {
  interface Future {
    v3_singleFetch: true
  }
}
