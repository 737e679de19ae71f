import { useBlocker } from '@remix-run/react'
import { useEffect, useRef } from 'react'
import { useUploaderStatus, type UploaderStatusStore } from './uploader/upload-status'

/**
 * Asks before the admin leaves a page that would lose something (`reason`, in words; null when nothing
 * would be lost): the browser's own prompt on reload, close and typed addresses (beforeunload), and a
 * dialog of ours for links inside the app (Remix's useBlocker). Submitting the form is not leaving.
 */
export function useLeaveGuard(reason: string | null) {
  const current = useRef(reason)
  current.current = reason
  useEffect(() => {
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (current.current === null) return
      event.preventDefault()
      // Older browsers show the prompt only when returnValue is set.
      event.returnValue = ''
    }
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => window.removeEventListener('beforeunload', onBeforeUnload)
  }, [])
  return useBlocker(
    ({ currentLocation, nextLocation, historyAction }) =>
      current.current !== null &&
      // The form posts to its own address; a save's redirect is part of that submission.
      (currentLocation.pathname !== nextLocation.pathname || historyAction === 'POP'),
  )
}

/** The dialog a blocked link opens: stay on the page (the default), or leave and lose `reason`. */
export function LeaveDialog({
  blocker,
  reason,
}: {
  blocker: ReturnType<typeof useLeaveGuard>
  reason: string | null
}) {
  const stay = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (blocker.state === 'blocked') stay.current?.focus()
  }, [blocker.state])
  // Leaving was asked for when there was something to lose, and now there is not: go.
  useEffect(() => {
    if (blocker.state === 'blocked' && reason === null) blocker.proceed()
  }, [blocker, reason])
  if (blocker.state !== 'blocked') return null
  return (
    <div
      className="leave-dialog"
      role="alertdialog"
      aria-modal="true"
      aria-labelledby="leave-title"
      aria-describedby="leave-reason"
    >
      <h2 id="leave-title">Leave this page?</h2>
      <p id="leave-reason">{reason}</p>
      <div className="leave-actions">
        <button type="button" ref={stay} onClick={() => blocker.reset()}>
          Stay on this page
        </button>
        <button type="button" className="secondary" onClick={() => blocker.proceed()}>
          Leave and lose them
        </button>
      </div>
    </div>
  )
}

/**
 * The product editor's guard: asks before leaving while images upload (the store says) or the form
 * has changes not saved (`changed`). A component of its own, so the uploader's status renders it alone.
 */
export function EditorLeaveGuard({ store, changed }: { store: UploaderStatusStore; changed: boolean }) {
  const { uploading } = useUploaderStatus(store)
  const reasons = []
  if (uploading > 0) {
    reasons.push(
      `${uploading} ${uploading === 1 ? 'image is' : 'images are'} still uploading, and leaving stops ${uploading === 1 ? 'it' : 'them'}.`,
    )
  }
  if (changed) reasons.push('Your changes to this product are not saved.')
  const reason = reasons.length > 0 ? reasons.join(' ') : null
  const blocker = useLeaveGuard(reason)
  return <LeaveDialog blocker={blocker} reason={reason} />
}
