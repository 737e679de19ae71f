import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Admin } from '~/models/admin.server'
import { forgetAppliedEdits } from '~/models/product-edits.server'
import { getProduct, type Product } from '~/models/product.server'
import { getSql } from '~/utils/db.server'
import { submitProductEditor, type EditorResult } from '~/routes/__product-editor.server'
import { explain, failed } from '../support/editor'
import { altFieldName } from '~/utils/product-schema'
import { headObject } from '~/utils/storage.server'
import { createTestAdmin } from '../support/admins'
import { runQueuedDeletions } from '../support/jobs'
import { makePng } from '../support/images'

let admin: Admin
beforeAll(async () => {
  admin = await createTestAdmin('edit')
})

type Fields = Record<string, string | string[]>

function formOf(fields: Fields, files: Buffer[] = []) {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) form.append(name, v)
  }
  for (const [i, bytes] of files.entries()) {
    form.append('images', new File([new Uint8Array(bytes)], `new-${i}.png`, { type: 'image/png' }))
  }
  return form
}

/** A product whose image i is 10 + i pixels wide, so widths show the order. */
async function createProduct(count: number): Promise<Product> {
  const files = Array.from({ length: count }, (_, i) => makePng(10 + i, 8))
  const result = await submitProductEditor(
    new Request('http://localhost/products/new', {
      method: 'POST',
      body: formOf({ name: `Edited ${randomUUID()}`, price: '3.00' }, files),
    }),
    admin,
  )
  if (!result.ok) throw new Error(explain(result))
  return (await getProduct({ productId: result.productId }))!
}

/** The edit form as the page submits it, before the admin's changes. */
function editFields(product: Product, changes: Fields = {}): Fields {
  return {
    name: product.name,
    price: '3.00',
    description: product.description,
    version: String(product.version),
    idempotencyKey: randomUUID(),
    imageId: product.images.map((image) => image.id),
    ...Object.fromEntries(product.images.map((image) => [altFieldName(image.id), image.altText])),
    ...changes,
  }
}

async function edit(product: Product, fields: Fields, files: Buffer[] = []): Promise<EditorResult> {
  return submitProductEditor(
    new Request(`http://localhost/products/${product.id}/edit`, {
      method: 'POST',
      body: formOf(fields, files),
    }),
    admin,
    { product, databaseDown: false },
  )
}

const reload = async (product: Product) => (await getProduct({ productId: product.id }))!
const widths = (product: Product) => product.images.map((image) => image.width)

async function countRows(query: 'edits' | 'uploads', productId: string) {
  const sql = getSql()
  const [row] =
    query === 'edits'
      ? await sql<
          { n: number }[]
        >`select count(*)::int as n from product_edits where product_id = ${productId}`
      : await sql<{ n: number }[]>`select count(*)::int as n from uploads where attached_to = ${productId}`
  return row!.n
}

describe('editing a product', () => {
  it('saves fields, order, alt texts, removals and new images in one go', async () => {
    const product = await createProduct(3)
    const [a, b, c] = product.images.map((image) => image.id)
    const removedKey = product.images[0]!.key
    const result = await edit(
      product,
      editFields(product, {
        name: 'Renamed',
        price: '7.25',
        imageId: [c!, b!, a!],
        [altFieldName(b!)]: '  A side view  ',
        removeImage: a!,
      }),
      [makePng(40, 8)],
    )
    expect(result).toMatchObject({ ok: true })

    const saved = await reload(product)
    expect(saved.name).toBe('Renamed')
    expect(saved.priceCents).toBe(725)
    expect(saved.version).toBe(product.version + 1)
    expect(widths(saved)).toEqual([12, 11, 40])
    expect(saved.images.map((image) => image.position)).toEqual([0, 1, 2])
    expect(saved.images[1]!.altText).toBe('A side view')
    // The new image left staging for the product's prefix; the removed one is gone from the bucket.
    expect(saved.images[2]!.key).toMatch(new RegExp(`^originals/${product.id}/`))
    expect(await headObject(saved.images[2]!.key)).not.toBeNull()
    await runQueuedDeletions()
    expect(await headObject(removedKey)).toBeNull()
  })

  it('a Move without JavaScript reorders the form and saves nothing', async () => {
    const product = await createProduct(3)
    const [a, b, c] = product.images.map((image) => image.id)
    const result = failed(await edit(product, editFields(product, { name: 'Not yet', move: `${c}:up` })))
    expect(result.saved?.images.map((image) => image.id)).toEqual([a, c, b])
    expect(result.saved?.announcement).toEqual({
      text: 'Image 3 moved to position 2 of 3. Save to keep the new order.',
      focus: `${c}:up`,
    })
    // Moved to the top, the image can go no further up: focus goes to its Move down.
    const top = failed(await edit(product, editFields(product, { imageId: [a!, c!, b!], move: `${c}:up` })))
    expect(top.saved?.announcement?.focus).toBe(`${c}:down`)
    expect(result.values.name).toBe('Not yet')
    expect(result.errors).toEqual({})
    const unchanged = await reload(product)
    expect(unchanged.name).toBe(product.name)
    expect(widths(unchanged)).toEqual([10, 11, 12])
  })

  it('two concurrent submits of one edit form apply it once', async () => {
    const product = await createProduct(1)
    const fields = editFields(product, { description: 'Once' })
    const [first, second] = await Promise.all([
      edit(product, fields, [makePng(41, 8)]),
      edit(product, fields, [makePng(41, 8)]),
    ])
    expect(first).toMatchObject({ ok: true })
    expect(second).toMatchObject({ ok: true })
    const saved = await reload(product)
    expect(saved.version).toBe(product.version + 1)
    expect(widths(saved)).toEqual([10, 41])
    expect(await countRows('edits', product.id)).toBe(1)
    // The product's first image plus the one from the edit that won.
    expect(await countRows('uploads', product.id)).toBe(2)
    // And once more after success: still one edit.
    expect(await edit(product, fields)).toMatchObject({ ok: true })
    expect((await reload(product)).version).toBe(product.version + 1)
  })

  it('refuses a save on top of another save, writing nothing', async () => {
    const product = await createProduct(2)
    expect(await edit(product, editFields(product, { description: 'First' }))).toMatchObject({ ok: true })
    const stale = failed(
      await edit(
        product,
        editFields(product, {
          description: 'Second',
          imageId: [...product.images.map((i) => i.id)].reverse(),
        }),
        [makePng(42, 8)],
      ),
    )
    expect(stale.errors.images?.[0]).toMatch(/Someone saved this product after you opened this page/)
    // The form comes back on the current version, keeping the text and the new upload.
    expect(stale.saved?.version).toBe(product.version + 1)
    expect(stale.values.description).toBe('Second')
    expect(stale.staged.map((image) => image.width)).toEqual([42])
    const saved = await reload(product)
    expect(saved.description).toBe('First')
    expect(widths(saved)).toEqual([10, 11])
    const [copies] = await getSql()<{ n: number }[]>`
      select count(*)::int as n from product_images where product_id = ${product.id}`
    expect(copies!.n).toBe(2)
  })

  it('refuses bad values with messages and keeps everything', async () => {
    const product = await createProduct(2)
    const [a, b] = product.images.map((image) => image.id)
    const result = failed(
      await edit(
        product,
        editFields(product, {
          name: ' ',
          imageId: [b!, a!],
          [altFieldName(a!)]: 'x'.repeat(501),
          removeImage: b!,
        }),
      ),
    )
    expect(result.errors).toEqual({
      name: ['Enter a name.'],
      [altFieldName(a!)]: ['Keep the alt text under 500 characters.'],
    })
    expect(result.saved?.images.map((image) => [image.id, image.removed])).toEqual([
      [b, true],
      [a, false],
    ])
    expect(widths(await reload(product))).toEqual([10, 11])
  })

  it('refuses more images than a product may have', async () => {
    const product = await createProduct(9)
    const result = failed(await edit(product, editFields(product), [makePng(43, 8), makePng(44, 8)]))
    expect(result.errors.images).toContain('A product has at most 10 images; remove 1.')
    // Ticking one for removal makes room.
    const fits = await edit(product, editFields(product, { removeImage: product.images[0]!.id }), [
      makePng(43, 8),
      makePng(44, 8),
    ])
    expect(fits).toMatchObject({ ok: true })
    expect(widths(await reload(product))).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 43, 44])
  })

  it('forgets the keys of old saved edits, and only those', async () => {
    const product = await createProduct(1)
    const old = editFields(product, { description: 'Long ago' })
    expect(await edit(product, old)).toMatchObject({ ok: true })
    const recent = editFields(await reload(product), { description: 'Just now' })
    expect(await edit(product, recent)).toMatchObject({ ok: true })
    await getSql()`
      update product_edits set created_at = now() - interval '3 days'
      where idempotency_key = ${old.idempotencyKey as string}`
    expect(await forgetAppliedEdits({ olderThanMs: 2 * 86_400_000 })).toBeGreaterThanOrEqual(1)
    const keys = await getSql()<{ key: string }[]>`
      select idempotency_key as key from product_edits where product_id = ${product.id}`
    expect(keys.map((row) => row.key)).toEqual([recent.idempotencyKey])
  })

  it('ignores image ids of other products', async () => {
    const product = await createProduct(1)
    const other = await createProduct(1)
    const result = await edit(
      product,
      editFields(product, {
        imageId: [other.images[0]!.id, product.images[0]!.id],
        removeImage: other.images[0]!.id,
      }),
    )
    expect(result).toMatchObject({ ok: true })
    expect(widths(await reload(other))).toEqual([10])
    expect(await headObject(other.images[0]!.key)).not.toBeNull()
  })
})
