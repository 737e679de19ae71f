import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Admin } from '~/models/admin.server'
import { getProduct } from '~/models/product.server'
import { getSql } from '~/utils/db.server'
import { submitProductEditor, type EditorResult } from '~/routes/__product-editor.server'
import { failed } from '../support/editor'
import { createTestAdmin } from '../support/admins'
import { makePng } from '../support/images'

let admin: Admin
beforeAll(async () => {
  admin = await createTestAdmin('once')
})

function submit(fields: Record<string, string | string[]>, files: Buffer[] = []) {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) form.append(name, v)
  }
  for (const [i, bytes] of files.entries()) {
    form.append('images', new File([new Uint8Array(bytes)], `image-${i}.png`, { type: 'image/png' }))
  }
  return submitProductEditor(
    new Request('http://localhost/products/new', { method: 'POST', body: form }),
    admin,
  )
}

/** A reference to a staged image, as a failed submit hands back to the form. */
async function stagedRef(width: number) {
  const result = failed(await submit({ name: '', price: '1' }, [makePng(width, 10)]))
  return result.staged[0]!.ref
}

async function countProducts(name: string) {
  const [row] = await getSql()<{ n: number }[]>`select count(*)::int as n from products where name = ${name}`
  return row!.n
}

const ids = (results: EditorResult[]) => results.map((r) => (r.ok ? r.productId : null))

describe('submitting a product form exactly once', () => {
  it('two concurrent submits of one form create one product', async () => {
    const ref = await stagedRef(31)
    const name = `Twice ${randomUUID()}`
    const fields = { name, price: '4.00', idempotencyKey: randomUUID(), imageRef: ref }
    const results = await Promise.all([submit(fields), submit(fields)])
    const [a, b] = ids(results)
    expect(a).toBeTruthy()
    expect(b).toBe(a)
    expect(await countProducts(name)).toBe(1)
    expect((await getProduct({ productId: a! }))!.images.map((i) => i.width)).toEqual([31])
  })

  it('submitting again after success lands on the product that was created', async () => {
    const ref = await stagedRef(32)
    const name = `Again ${randomUUID()}`
    const fields = { name, price: '4.00', idempotencyKey: randomUUID(), imageRef: ref }
    const first = await submit(fields)
    const second = await submit(fields)
    expect(ids([second])).toEqual(ids([first]))
    expect(await countProducts(name)).toBe(1)
  })

  it('refuses to attach one upload to two products', async () => {
    const ref = await stagedRef(33)
    const name = `Shared ${randomUUID()}`
    const results = await Promise.all([
      submit({ name, price: '1', idempotencyKey: randomUUID(), imageRef: ref }),
      submit({ name, price: '1', idempotencyKey: randomUUID(), imageRef: ref }),
    ])
    const created = results.filter((r) => r.ok)
    const refused = results.filter((r) => !r.ok)
    expect(created).toHaveLength(1)
    expect(refused).toHaveLength(1)
    const failure = failed(refused[0]!)
    expect(failure.errors.images?.[0]).toMatch(
      /image-0\.png (is already attached to another product|is not in storage)/,
    )
    expect(failure.values.name).toBe(name)
    expect(await countProducts(name)).toBe(1)
  })
})
