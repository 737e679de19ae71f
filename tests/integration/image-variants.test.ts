import { spawn } from 'node:child_process'
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import exifr from 'exifr'
import { Logger, runOnce } from 'graphile-worker'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { ImageBusyError, processImage } from '~/images/process-job.server'
import { startProcessing } from '~/images/start.server'
import { VARIANT_VERSION } from '~/images/variants'
import { imageViews } from '~/images/view.server'
import { TASK } from '~/jobs/queue.server'
import { taskList } from '~/jobs/worker.server'
import type { Admin } from '~/models/admin.server'
import {
  claimProcessing,
  getProcessing,
  renewClaim,
  saveVariants,
  stalledProcessing,
} from '~/models/image-processing.server'
import { deleteProduct, getProduct } from '~/models/product.server'
import { createProduct } from '~/products/save.server'
import { recordUpload } from '~/models/upload.server'
import { getSql } from '~/utils/db.server'
import { getEnv } from '~/utils/env.server'
import { getUploadLimits } from '~/uploads/submission.server'
import { checkStagedUpload, type StagedImage } from '~/uploads/staged-image.server'
import { deleteObjects, getS3, newStagingKey } from '~/utils/storage.server'
import { refExpiry } from '~/uploads/refs.server'
import type { ImageType } from '~/uploads/image-types'
import { createTestAdmin } from '../support/admins'
import { runQueuedDeletions } from '../support/jobs'
import { makePhoto, photoPixels } from '../support/photos'
import { listKeys, readObject } from '../support/s3'

let admin: Admin
beforeAll(async () => {
  admin = await createTestAdmin('variants')
})

const bucket = () => getEnv().S3_BUCKET

/** Uploads bytes to the admin's staging namespace as the browser would, and checks them as a save does. */
async function stage(bytes: Buffer, contentType: ImageType, fileName: string): Promise<StagedImage> {
  const key = newStagingKey(admin.id, contentType)
  await recordUpload({
    key,
    adminId: admin.id,
    fileName,
    contentType,
    declaredSize: bytes.length,
    multipart: false,
  })
  await getS3().send(
    new PutObjectCommand({ Bucket: bucket(), Key: key, Body: bytes, ContentType: contentType }),
  )
  const ref = { key, adminId: admin.id, contentType, fileName, size: bytes.length, expiresAt: refExpiry() }
  const check = await checkStagedUpload(ref, getUploadLimits())
  if (!check.ok) throw new Error(check.error)
  return check.image
}

async function productWith(images: StagedImage[]) {
  const { productId } = await createProduct({
    adminId: admin.id,
    fields: { name: `Variants ${crypto.randomUUID()}`, price: 100, description: '' },
    images,
    idempotencyKey: crypto.randomUUID(),
  })
  return (await getProduct({ productId }))!
}

/** Runs the queued image jobs the way a worker does (only those: other tests' jobs are left alone). */
async function runImageJobs() {
  await runOnce({
    connectionString: getEnv().DATABASE_URL,
    taskList: { [TASK.processImage]: taskList[TASK.processImage]! },
    logger: new Logger(() => () => {}),
  })
}

async function variantsOf(processingId: string) {
  const processing = (await getProcessing([processingId])).get(processingId)!
  return { processing, variants: processing.variants }
}

describe('processed image variants', () => {
  it('makes each width in WebP from a 12 MP camera photo: no upscale, no EXIF or GPS, cached for a year', async () => {
    const photo = await makePhoto(4000, 3000)
    expect((await exifr.gps(photo))?.latitude).toBeCloseTo(51.5, 1)
    const product = await productWith([await stage(photo, 'image/jpeg', 'camera.jpg')])
    await runImageJobs()
    const { processing, variants } = await variantsOf(product.images[0]!.processingId)
    expect(processing.status).toBe('ready')
    expect(variants.map((v) => [v.format, v.width, v.height])).toEqual([
      ['webp', 256, 192],
      ['webp', 512, 384],
      ['webp', 1024, 768],
      ['webp', 2048, 1536],
    ])
    for (const variant of variants) {
      expect(variant.key.startsWith('variants/')).toBe(true)
      const object = await readObject(variant.key)
      expect(object.cacheControl).toBe('public, max-age=31536000, immutable')
      expect(object.contentType).toBe('image/webp')
      const meta = await sharp(object.bytes).metadata()
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', variant.width, variant.height])
      expect([meta.exif, meta.xmp, meta.icc, meta.comments]).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
      ])
      // No block of the camera's survives anywhere in the file (sharp reads EXIF/XMP; this reads the bytes).
      for (const marker of ['Exif', 'PhoneMaker', 'Somebody', 'GPS', 'http://ns.adobe.com/xap']) {
        expect(object.bytes.includes(marker), marker).toBe(false)
      }
    }
    // A placeholder of a few dozen bytes and the dominant colour are stored with it.
    expect(Buffer.from(processing.placeholder!, 'base64').length).toBeLessThan(40)
    expect(processing.color).toMatch(/^#[0-9a-f]{6}$/)
    // The original stays private and untouched, under originals/.
    expect(product.images[0]!.key.startsWith('originals/')).toBe(true)
    expect((await exifr.gps((await readObject(product.images[0]!.key)).bytes))?.latitude).toBeCloseTo(51.5, 1)
  })

  it('applies orientation, converts CMYK, 16-bit and greyscale to 8-bit sRGB, keeps transparency and animation', async () => {
    const raw = (channels: 3 | 4) =>
      sharp({
        create: { width: 300, height: 200, channels, background: { r: 200, g: 40, b: 40, alpha: 0.5 } },
      })
    const frame = (colour: string) =>
      sharp({ create: { width: 60, height: 40, channels: 3, background: colour } })
        .png()
        .toBuffer()
    const inputs: [string, ImageType, Buffer][] = [
      ['rotated.jpg', 'image/jpeg', await makePhoto(600, 400, { orientation: 6 })],
      ['cmyk.jpg', 'image/jpeg', await raw(3).toColourspace('cmyk').jpeg().toBuffer()],
      ['deep.png', 'image/png', await (await photoPixels(300, 200)).toColourspace('rgb16').png().toBuffer()],
      ['grey.png', 'image/png', await raw(3).toColourspace('b-w').png().toBuffer()],
      ['clear.png', 'image/png', await raw(4).png().toBuffer()],
      [
        'moving.gif',
        'image/gif',
        await sharp([await frame('#f00'), await frame('#00f'), await frame('#0f0')], {
          join: { animated: true },
        })
          .gif()
          .toBuffer(),
      ],
      [
        'moving.webp',
        'image/webp',
        await sharp([await frame('#ff0'), await frame('#0ff')], { join: { animated: true } })
          .webp()
          .toBuffer(),
      ],
    ]
    expect((await sharp(inputs[1]![2]).metadata()).space).toBe('cmyk')
    expect((await sharp(inputs[2]![2]).metadata()).depth).toBe('ushort')
    const product = await productWith(
      await Promise.all(inputs.map(([name, type, bytes]) => stage(bytes, type, name))),
    )
    await runImageJobs()
    const outputs = []
    for (const image of product.images) {
      const { processing, variants } = await variantsOf(image.processingId)
      expect(processing.status, image.fileName ?? '').toBe('ready')
      const largest = variants.at(-1)!
      const meta = await sharp((await readObject(largest.key)).bytes, { animated: true }).metadata()
      outputs.push([
        image.fileName,
        largest.width,
        largest.height,
        meta.space,
        meta.depth,
        meta.hasAlpha,
        meta.pages ?? 1,
      ])
    }
    expect(outputs).toEqual([
      // Stored 600 x 400 with "rotate 90°": shown upright, 400 wide and 600 high.
      ['rotated.jpg', 400, 600, 'srgb', 'uchar', false, 1],
      ['cmyk.jpg', 300, 200, 'srgb', 'uchar', false, 1],
      ['deep.png', 300, 200, 'srgb', 'uchar', false, 1],
      ['grey.png', 300, 200, 'srgb', 'uchar', false, 1],
      ['clear.png', 300, 200, 'srgb', 'uchar', true, 1],
      ['moving.gif', 60, 40, 'srgb', 'uchar', false, 3],
      ['moving.webp', 60, 40, 'srgb', 'uchar', false, 2],
    ])
    // The CMYK red stays red once converted.
    const cmyk = (await variantsOf(product.images[1]!.processingId)).variants.at(-1)!
    const { channels } = await sharp((await readObject(cmyk.key)).bytes).stats()
    expect(channels[0]!.mean).toBeGreaterThan(150)
    expect(channels[1]!.mean).toBeLessThan(90)
  })

  it('fails a truncated image for good with a clear reason, and the product stays usable', async () => {
    const photo = await makePhoto(800, 600)
    const truncated = photo.subarray(0, Math.floor(photo.length / 2))
    const product = await productWith([
      await stage(truncated, 'image/jpeg', 'cut.jpg'),
      await stage(photo, 'image/jpeg', 'whole.jpg'),
    ])
    await runImageJobs()
    const [cut, whole] = await imageViews(product.images)
    expect(cut).toMatchObject({
      status: 'failed',
      src: null,
      fileName: 'cut.jpg',
      failure: 'It is damaged or incomplete: export or download it again, then add it.',
    })
    expect(whole).toMatchObject({ status: 'ready', src: expect.stringContaining('variants/') })
    // Failed for good: no job left to retry it.
    const jobs = await getSql()`
      select 1 from graphile_worker.jobs where key = ${`image:${product.images[0]!.processingId}`}`
    expect(jobs).toHaveLength(0)
  })

  it('retries a job that failed (the original was not readable), then succeeds', async () => {
    const image = await stage(await makePhoto(640, 480), 'image/jpeg', 'later.jpg')
    const product = await productWith([image])
    const original = product.images[0]!
    const bytes = (await readObject(original.key)).bytes
    await deleteObjects([original.key])
    await runImageJobs()
    const [job] = await getSql()<{ id: string; attempts: number; lastError: string }[]>`
      select id, attempts, last_error as "lastError" from graphile_worker.jobs
      where key = ${`image:${original.processingId}`}`
    expect(job).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/not in storage/) })
    expect((await variantsOf(original.processingId)).processing.status).toBe('pending')

    await getS3().send(new PutObjectCommand({ Bucket: bucket(), Key: original.key, Body: bytes }))
    await getSql()`select graphile_worker.reschedule_jobs(array[${job!.id}::bigint], run_at => now())`
    await runImageJobs()
    expect((await variantsOf(original.processingId)).processing.status).toBe('ready')
    expect(await getSql()`select 1 from graphile_worker.jobs where id = ${job!.id}`).toHaveLength(0)
  })

  it('never lets two workers process one image at once', async () => {
    const product = await productWith([await stage(await makePhoto(1200, 900), 'image/jpeg', 'once.jpg')])
    const id = product.images[0]!.processingId
    const runs = await Promise.allSettled([processImage(id), processImage(id), processImage(id)])
    const outcomes = runs.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).name)).sort()
    expect(outcomes).toEqual([ImageBusyError.name, ImageBusyError.name, 'processed'])
    // Later runs find it done; one generation of objects exists.
    expect(await processImage(id)).toBe('done')
    const generations = new Set((await listKeys(`variants/${id}/`)).map((key) => key.split('/')[2]))
    expect(generations.size).toBe(1)
  })

  it('lets a claim lapse when its holder stops renewing it, and refuses the save of a holder another took over from', async () => {
    const product = await productWith([await stage(await makePhoto(600, 400), 'image/jpeg', 'lapsed.jpg')])
    const id = product.images[0]!.processingId
    const stale = await claimProcessing({ id, version: VARIANT_VERSION, holder: 'a worker that died' })
    if (typeof stale === 'string') throw new Error(`not claimed: ${stale}`)
    await expect(processImage(id)).rejects.toThrow(ImageBusyError)
    // Nobody renews it: it lapses (CLAIM_SECONDS after the last renewal; here at once).
    await getSql()`update image_processing set claimed_until = now() - interval '1 second' where id = ${id}`
    expect(await processImage(id)).toBe('processed')
    const made = (await variantsOf(id)).variants

    // The first holder was only stalled and comes back: its claim is gone and its save changes nothing.
    expect(await renewClaim({ id, claimId: stale.claimId })).toBe(false)
    const late = await getSql().begin((tx) =>
      saveVariants(tx, {
        id,
        claimId: stale.claimId,
        version: VARIANT_VERSION,
        variants: [
          { format: 'webp', width: 256, height: 171, byteSize: 10, key: `variants/${id}/late/256.webp` },
        ],
        placeholder: 'late',
        color: '#000000',
      }),
    )
    expect(late).toBeNull()
    expect((await variantsOf(id)).variants).toEqual(made)
  })

  it('starts when the upload is checked, so the save finds the variants made and queues nothing', async () => {
    const image = await stage(await makePhoto(800, 600), 'image/jpeg', 'early.jpg')
    const [id] = await startProcessing([image])
    await runImageJobs()
    expect((await variantsOf(id!)).processing.status).toBe('ready')
    const product = await productWith([image])
    expect(product.images[0]!.processingId).toBe(id)
    expect(await getSql()`select 1 from graphile_worker.jobs where key = ${`image:${id}`}`).toHaveLength(0)
    const [view] = await imageViews(product.images)
    expect(view).toMatchObject({ status: 'ready', width: 800, height: 600 })
    expect(view!.srcSet).toMatch(/variants\/.+ 256w, .+ 512w, .+ 800w$/)
  })

  it('deletes the variants with their product, and what a reprocess replaces', async () => {
    const product = await productWith([await stage(await makePhoto(600, 400), 'image/jpeg', 'gone.jpg')])
    const id = product.images[0]!.processingId
    await runImageJobs()
    const first = await listKeys(`variants/${id}/`)
    expect(first).toHaveLength(3)
    // A new variant set: the image is made again under new keys and the old objects are deleted.
    await getSql()`update image_processing set variant_version = 'older' where id = ${id}`
    expect(await processImage(id)).toBe('processed')
    await runQueuedDeletions()
    const second = await listKeys(`variants/${id}/`)
    expect(second).toHaveLength(3)
    expect(second.filter((key) => first.includes(key))).toEqual([])
    expect((await variantsOf(id)).processing).toMatchObject({ status: 'ready' })
    expect(
      await getSql()`select variant_version as "variantVersion" from image_processing where id = ${id}`,
    ).toEqual([{ variantVersion: VARIANT_VERSION }])

    expect(await deleteProduct({ productId: product.id })).toBe(true)
    await runQueuedDeletions()
    expect(await listKeys(`variants/${id}/`)).toEqual([])
    expect(await getSql()`select 1 from image_processing where id = ${id}`).toHaveLength(0)
    await expect(
      getS3().send(new HeadObjectCommand({ Bucket: bucket(), Key: product.images[0]!.key })),
    ).rejects.toThrow()
  })

  it('the hourly cleanup queues again an image that lost its job, and forgets the variants of uploads never saved', async () => {
    const product = await productWith([await stage(await makePhoto(300, 200), 'image/jpeg', 'lost.jpg')])
    const lost = product.images[0]!.processingId
    await getSql()`select graphile_worker.remove_job(${`image:${lost}`})`
    await getSql()`update image_processing set updated_at = now() - interval '1 hour' where id = ${lost}`
    expect(await stalledProcessing({ olderThanMs: 600_000 })).toContain(lost)

    const unsaved = await stage(await makePhoto(300, 200), 'image/jpeg', 'unsaved.jpg')
    const [early] = await startProcessing([unsaved])
    await processImage(early!)
    const variants = (await variantsOf(early!)).variants.map((v) => v.key)
    await getSql()`update image_processing set created_at = now() - interval '3 days' where id = ${early!}`

    await taskList[TASK.cleanup]!({}, {} as never)
    expect(await getSql()`select 1 from graphile_worker.jobs where key = ${`image:${lost}`}`).toHaveLength(1)
    expect(await getSql()`select 1 from image_processing where id = ${early!}`).toHaveLength(0)
    expect(await getSql()`select key from storage_deletions where key in ${getSql()(variants)}`).toHaveLength(
      variants.length,
    )
  })

  it('npm run images:reprocess remakes outdated and never-made variants, then finds nothing left to do', async () => {
    const product = await productWith([
      await stage(await makePhoto(600, 400), 'image/jpeg', 'made.jpg'),
      await stage(await makePhoto(500, 400), 'image/jpeg', 'never.jpg'),
    ])
    const [made, never] = product.images.map((image) => image.processingId) as [string, string]
    await processImage(made)
    const before = await listKeys(`variants/${made}/`)
    await getSql()`update image_processing set variant_version = 'older' where id = ${made}`

    const first = await reprocess(['--product', product.id])
    expect(first).toMatchObject({ code: 0 })
    expect(first.out).toContain('2 images to process')
    expect(first.out).toMatch(/Reprocessing .* 2\/2 images/)
    expect(first.out).toContain('Processed 2, failed 0')
    for (const id of [made, never]) {
      expect((await variantsOf(id)).processing.status).toBe('ready')
    }
    expect((await variantsOf(made)).variants.every((v) => !before.includes(v.key))).toBe(true)
    // Resumable: what is already made with the current set is skipped.
    expect((await reprocess(['--product', product.id])).out).toContain('0 images to process')
    expect(await reprocess(['--product', 'nope'])).toMatchObject({ code: 1 })
  })
})

/** Runs `npm run images:reprocess -- …` (without npm) against the test services. */
function reprocess(args: string[]) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/images-reprocess.ts', ...args], {
      env: { ...process.env, SKIP_ENV_FILE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('close', (code) => resolve({ code: code ?? -1, out }))
  })
}
