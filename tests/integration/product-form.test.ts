import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Admin } from '~/models/admin.server'
import { getProduct } from '~/models/product.server'
import { getSql } from '~/utils/db.server'
import { submitProductEditor } from '~/routes/__product-editor.server'
import { explain, failed } from '../support/editor'
import { deleteObjects, headObject, readObjectStart, stagingPrefix } from '~/utils/storage.server'
import { signUploadRef } from '~/uploads/refs.server'
import { createTestAdmin } from '../support/admins'
import { runQueuedDeletions } from '../support/jobs'
import { makeGif, makePng } from '../support/images'
import { listKeys, listMultipartUploads } from '../support/s3'

let admin: Admin
let otherAdmin: Admin

beforeAll(async () => {
  admin = await createTestAdmin('form')
  otherAdmin = await createTestAdmin('other')
})

function file(bytes: Buffer, name: string, type = 'image/png') {
  return new File([new Uint8Array(bytes)], name, { type })
}

function submit(fields: Record<string, string | string[]>, files: File[] = [], as: Admin = admin) {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) form.append(name, v)
  }
  for (const f of files) form.append('images', f)
  return submitProductEditor(new Request('http://localhost/products/new', { method: 'POST', body: form }), as)
}

async function productCount(name: string) {
  const [row] = await getSql()<
    { count: number }[]
  >`select count(*)::int as count from products where name = ${name}`
  return row!.count
}

describe('the product form without JavaScript', () => {
  it('creates a product with its images in order, moved out of staging', async () => {
    const name = `Mug ${randomUUID()}`
    const result = await submit({ name, price: '19.99', description: 'Stoneware' }, [
      file(makePng(64, 48), 'front.png'),
      file(makeGif(30, 20), 'side.gif', 'image/gif'),
    ])
    if (!result.ok) throw new Error(explain(result))
    const product = await getProduct({ productId: result.productId })
    expect(product).toMatchObject({ name, priceCents: 1999, description: 'Stoneware' })
    expect(product!.images.map((i) => [i.position, i.contentType, i.width, i.height])).toEqual([
      [0, 'image/png', 64, 48],
      [1, 'image/gif', 30, 20],
    ])
    for (const image of product!.images) {
      expect(image.key.startsWith(`originals/${result.productId}/`)).toBe(true)
      expect(await headObject(image.key)).toMatchObject({
        byteSize: image.byteSize,
        contentType: image.contentType,
      })
    }
    await runQueuedDeletions()
    expect(await listKeys(stagingPrefix(admin.id))).toEqual([])
  })

  it('streams a file larger than one part through multipart and keeps its bytes intact', async () => {
    const big = makePng(800, 600, { padTo: 20 * 1024 * 1024 + 12345 })
    const result = await submit({ name: `Poster ${randomUUID()}`, price: '5' }, [file(big, 'poster.png')])
    if (!result.ok) throw new Error(explain(result))
    const [image] = (await getProduct({ productId: result.productId }))!.images
    expect(image).toMatchObject({ byteSize: big.length, width: 800, height: 600 })
    const head = (await readObjectStart(image!.key, 64))!.head
    expect(Buffer.from(head).equals(big.subarray(0, 64))).toBe(true)
  })

  it('refuses a file that is not an image, keeps the good one and writes nothing', async () => {
    const name = `Lamp ${randomUUID()}`
    const result = failed(
      await submit({ name, price: '12.50' }, [
        file(makePng(10, 10), 'good.png'),
        file(Buffer.from('<!doctype html><p>hello</p>'), 'evil.png'),
      ]),
    )
    expect(result.errors.images).toEqual([
      'evil.png is not an image we accept (JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF).',
    ])
    expect(result.staged.map((i) => i.fileName)).toEqual(['good.png'])
    expect(await productCount(name)).toBe(0)
  })

  it('refuses a file above MAX_IMAGE_BYTES while streaming and leaves no multipart upload behind', async () => {
    const name = `Huge ${randomUUID()}`
    const tooBig = makePng(100, 100, { padTo: 24 * 1024 * 1024 + 1 })
    const result = failed(await submit({ name, price: '1' }, [file(tooBig, 'huge.png')]))
    expect(result.errors.images).toEqual(['huge.png is larger than 24 MiB, the limit for one image.'])
    expect(await listMultipartUploads(stagingPrefix(admin.id))).toEqual([])
    expect(await productCount(name)).toBe(0)
  })

  it('keeps values and uploaded images through a failed submit, so the next submit needs no upload', async () => {
    const first = failed(
      await submit({ name: '', price: 'abc', description: 'Kept text' }, [file(makePng(20, 10), 'keep.png')]),
    )
    expect(first.errors).toMatchObject({ name: ['Enter a name.'], price: [expect.stringMatching(/price/i)] })
    expect(first.values).toMatchObject({ price: 'abc', description: 'Kept text' })
    expect(first.values.name ?? '').toBe('')
    expect(first.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/)
    expect(first.staged).toHaveLength(1)
    expect(first.staged[0]).toMatchObject({ fileName: 'keep.png', width: 20, height: 10 })
    // Its preview is a placeholder until its variants are made; the staged original is never shown.
    expect(first.staged[0]!.preview).toMatchObject({ status: 'pending', src: null, srcSet: null })
    expect(JSON.stringify(first)).not.toContain('staging/')

    const name = `Vase ${randomUUID()}`
    const second = await submit({
      name,
      price: '3.50',
      description: 'Kept text',
      imageRef: first.staged[0]!.ref,
    })
    if (!second.ok) throw new Error(explain(second))
    const product = await getProduct({ productId: second.productId })
    expect(product!.images).toMatchObject([{ width: 20, height: 10, contentType: 'image/png' }])
  })

  it('drops a kept image the admin ticked for removal', async () => {
    const first = failed(
      await submit({ name: '', price: '1' }, [file(makePng(5, 5), 'a.png'), file(makePng(6, 6), 'b.png')]),
    )
    const [a, b] = first.staged
    const result = await submit({
      name: `Cup ${randomUUID()}`,
      price: '1',
      imageRef: [a!.ref, b!.ref],
      removeImage: a!.ref,
    })
    if (!result.ok) throw new Error(explain(result))
    expect((await getProduct({ productId: result.productId }))!.images.map((i) => i.width)).toEqual([6])
  })

  it('refuses forged and foreign image references with a form error and writes nothing', async () => {
    const name = `Forged ${randomUUID()}`
    const foreign = signUploadRef({
      key: `${stagingPrefix(otherAdmin.id)}${randomUUID()}.png`,
      adminId: otherAdmin.id,
      contentType: 'image/png',
      fileName: 'theirs.png',
      size: 10,
      expiresAt: Math.floor(Date.now() / 1000) + 60,
    })
    const result = failed(await submit({ name, price: '1', imageRef: [foreign, 'not-a-ref.abc'] }))
    expect(result.errors.images).toEqual([
      'An image reference could not be verified (forged, expired or not yours); please add that image again.',
      'An image reference could not be verified (forged, expired or not yours); please add that image again.',
    ])
    expect(await productCount(name)).toBe(0)
  })

  it('says which image vanished from staging and keeps the rest', async () => {
    const first = failed(
      await submit({ name: '', price: '1' }, [
        file(makePng(7, 7), 'stays.png'),
        file(makePng(8, 8), 'gone.png'),
      ]),
    )
    const gone = first.staged.find((i) => i.fileName === 'gone.png')!
    const goneKey = JSON.parse(Buffer.from(gone.ref.split('.')[0]!, 'base64url').toString()).key as string
    await deleteObjects([goneKey])
    const name = `Partial ${randomUUID()}`
    const result = failed(await submit({ name, price: '1', imageRef: first.staged.map((i) => i.ref) }))
    expect(result.errors.images).toEqual([
      'gone.png is not in storage (it never finished uploading or has expired); please add it again.',
    ])
    expect(result.staged.map((i) => i.fileName)).toEqual(['stays.png'])
    expect(await productCount(name)).toBe(0)
  })

  it('refuses more images than MAX_IMAGES_PER_PRODUCT', async () => {
    const files = Array.from({ length: 11 }, (_, i) => file(makePng(4, 4), `img-${i}.png`))
    const result = failed(await submit({ name: `Many ${randomUUID()}`, price: '1' }, files))
    expect(result.errors.images).toEqual(['img-10.png was not added: a product has at most 10 images.'])
    expect(result.staged).toHaveLength(10)
  })

  it('ignores an empty file input', async () => {
    const result = await submit({ name: `Bare ${randomUUID()}`, price: '2' }, [
      new File([], '', { type: 'application/octet-stream' }),
    ])
    if (!result.ok) throw new Error(explain(result))
    expect((await getProduct({ productId: result.productId }))!.images).toEqual([])
  })
})
