/**
 * For lru-cache's `perf` option: ages measured on the wall clock (Date.now, looked up on each call), as
 * every other expiry in the app is, rather than on performance.now().
 */
export const WALL_CLOCK = { now: () => Date.now() }
