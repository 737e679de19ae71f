import { describe, expect, it } from 'vitest'
import { ALLOWED_IMAGE_TYPES, ALLOWED_TYPES_LABEL } from '~/uploads/image-types'
import { getSql } from '~/utils/db.server'

describe('the table of image types (app/uploads/image-types.ts)', () => {
  it('is what the database’s check on product_images accepts, exactly', async () => {
    const [check] = await getSql()<{ definition: string }[]>`
      select pg_get_constraintdef(oid) as definition from pg_constraint
      where conrelid = 'product_images'::regclass and contype = 'c'
        and pg_get_constraintdef(oid) like '%content_type%'`
    const accepted = [...check!.definition.matchAll(/'(image\/[a-z]+)'/g)].map((m) => m[1])
    expect(accepted.sort()).toEqual([...ALLOWED_IMAGE_TYPES].sort())
  })

  it('names the types in messages', () => {
    expect(ALLOWED_TYPES_LABEL).toBe('JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF')
  })
})
