import type { EditorResult, EditorState } from '~/routes/__product-editor.server'

/** The editor as it came back from a submit that did not save: what it shows as wrong, by field. */
export function failed(result: EditorResult): EditorState & {
  /** The schema's problems by field name, and the images' under `images`. */
  errors: Record<string, string[]>
  /** The values the form comes back with. */
  values: Record<string, unknown>
} {
  if (result.ok) throw new Error(`expected the form back, got product ${result.productId}`)
  const { state } = result
  const errors: Record<string, string[]> = {}
  for (const [name, messages] of Object.entries(state.submission?.error ?? {}))
    if (messages?.length) errors[name] = messages
  if (state.imageErrors.length > 0) errors.images = state.imageErrors
  return { ...state, errors, values: { ...state.submission?.initialValue } }
}

/** The problems of a submit that should have saved, for its failure message. */
export function explain(result: EditorResult) {
  return result.ok ? '' : JSON.stringify(failed(result).errors)
}
