/** The message of anything thrown, for logs: Errors give theirs, anything else its string form. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
