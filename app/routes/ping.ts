/** Liveness: the process answers (no database or storage call; /healthz checks those). */
export function loader() {
  return new Response('ok', { headers: { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' } })
}
