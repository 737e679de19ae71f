/**
 * Control characters other than tab and line breaks: invisible in a form, and NUL is refused by
 * PostgreSQL outright, so text holding any is answered with a form error instead of reaching the database.
 */
export function hasControlCharacters(value: string) {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true
  }
  return false
}

/** A file name as shown to admins and stored: control characters dropped, at most 255 characters. */
export function cleanFileName(name: string) {
  return [...name]
    .filter((c) => !hasControlCharacters(c) && c !== '\n' && c !== '\r' && c !== '\t')
    .join('')
    .trim()
    .slice(0, 255)
}
