import { vitePlugin as remix } from '@remix-run/dev'
import { defineConfig } from 'vite'
import { remixConfig } from './remix.config'

export default defineConfig({
  plugins: [remix(remixConfig)],
  resolve: { alias: { '~': new URL('./app', import.meta.url).pathname } },
  optimizeDeps: {
    // Without entries Vite finds dependencies only as the first page asks for them, then optimises
    // again and reloads it, which leaves WebKit with two Reacts ("Invalid hook call") and a blank page.
    // Scanning every module a page can load finds them all up front, including the uploader's, which
    // only a lazy import() reaches (Remix's future.unstable_optimizeDeps scans the routes alone). The
    // scan pre-bundles server-only dependencies too; skipping .server modules in it was tried, and the
    // first page then still discovered those late and reloaded.
    entries: ['app/root.tsx', 'app/routes/*.tsx', 'app/components/**/*.tsx'],
  },
  // Tests start the development server on an empty cache, as after a fresh install (tests/browsers).
  cacheDir: process.env.DEV_VITE_CACHE_DIR,
})
