/** A field's problems under it; the first carries the id its input's `aria-describedby` names. */
export function FieldErrors({ id, errors }: { id: string; errors: readonly string[] | undefined }) {
  return errors?.map((error, i) => (
    <p className="error" id={i === 0 ? id : undefined} key={i}>
      {error}
    </p>
  ))
}
