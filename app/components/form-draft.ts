import { useLocation, useNavigation } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'

/** The text fields a draft keeps, by name; files and images are not drafts. */
export type DraftFields = Record<string, string>

const PREFIX = 'product-images:draft:'
const SAVE_DELAY_MS = 300

/**
 * What the admin types in the form `formId`, kept in the browser (localStorage) under `key`, so a
 * reload, a closed tab or a browser crash loses none of it: the fields named in `initial` are saved as
 * they are typed (read from the form itself) and when the page goes away, offered back when the form
 * opens again with nothing of its own (`fresh`), and forgotten once a save succeeds (the submission
 * leaves the page). Returns the draft found at opening (null when none) and `forget`.
 */
export function useFormDraft({
  key,
  formId,
  initial,
  fresh,
}: {
  key: string
  formId: string
  /** The fields as the form opened. */
  initial: DraftFields
  /** The form opened without an answer from the server (not a failed submit coming back). */
  fresh: boolean
}) {
  const storageKey = PREFIX + key
  const [found, setFound] = useState<DraftFields | null>(null)
  const names = useRef(Object.keys(initial))
  names.current = Object.keys(initial)
  /** What the form held when a draft was last forgotten: not a draft until something changes. */
  const baseline = useRef(JSON.stringify(initial))
  /** Set once the save succeeded: a keystroke's write still pending must not bring the draft back. */
  const saved = useRef(false)

  useEffect(() => {
    if (!fresh) return
    const draft = read(storageKey)
    if (draft && Object.entries(draft).some(([name, value]) => name in initial && initial[name] !== value)) {
      setFound(draft)
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once, when the form opens
  }, [])

  useEffect(() => {
    const form = document.getElementById(formId)
    if (!(form instanceof HTMLFormElement)) return
    const current = () => {
      const fields: DraftFields = {}
      for (const name of names.current) {
        const field = form.elements.namedItem(name)
        if (field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)
          fields[name] = field.value
      }
      return fields
    }
    const save = () => {
      if (saved.current) return
      const fields = current()
      if (JSON.stringify(fields) !== baseline.current) write(storageKey, fields)
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    const later = () => {
      clearTimeout(timer)
      timer = setTimeout(save, SAVE_DELAY_MS)
    }
    form.addEventListener('input', later)
    // A reload or a closed tab right after a keystroke still keeps it.
    window.addEventListener('pagehide', save)
    return () => {
      clearTimeout(timer)
      form.removeEventListener('input', later)
      window.removeEventListener('pagehide', save)
    }
  }, [formId, storageKey])

  // A submission that leaves the page (the action redirected to the product) saved it.
  const navigation = useNavigation()
  const location = useLocation()
  useEffect(() => {
    if (
      navigation.state === 'loading' &&
      navigation.formMethod?.toUpperCase() === 'POST' &&
      navigation.location.pathname !== location.pathname
    ) {
      saved.current = true
      forget(storageKey)
    }
  }, [navigation, location.pathname, storageKey])

  return {
    found,
    /** Forgets the draft; `now` is what the form holds after, which is no draft either. */
    forget: (now: DraftFields) => {
      forget(storageKey)
      baseline.current = JSON.stringify(now)
      setFound(null)
    },
  }
}

function read(key: string): DraftFields | null {
  try {
    const parsed = JSON.parse(localStorage.getItem(key) ?? 'null') as unknown
    if (!parsed || typeof parsed !== 'object') return null
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    )
  } catch {
    return null
  }
}

function write(key: string, values: DraftFields) {
  try {
    localStorage.setItem(key, JSON.stringify(values))
  } catch {
    // Storage full or refused (a private window): the form still works, without a draft.
  }
}

function forget(key: string) {
  try {
    localStorage.removeItem(key)
  } catch {
    // As above.
  }
}
