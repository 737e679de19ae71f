import { readFileSync } from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { Logger, runOnce } from 'graphile-worker'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { imageViews } from '~/images/view.server'
import { TASK } from '~/jobs/queue.server'
import { taskList } from '~/jobs/worker.server'
import type { Admin } from '~/models/admin.server'
import { getProcessing } from '~/models/image-processing.server'
import { recordUpload } from '~/models/upload.server'
import { getProduct } from '~/models/product.server'
import { submitProductEditor } from '~/routes/__product-editor.server'
import { getEnv } from '~/utils/env.server'
import { getS3, newStagingKey } from '~/utils/storage.server'
import { ALLOWED_IMAGE_TYPES, imageTypeForFileName, type ImageType } from '~/uploads/image-types'
import { refExpiry } from '~/uploads/refs.server'
import { checkStagedUpload } from '~/uploads/staged-image.server'
import { getUploadLimits } from '~/uploads/submission.server'
import { VARIANT_WIDTHS } from '~/images/variants'
import { makeVariants } from '~/images/process.server'
import { createTestAdmin } from '../support/admins'
import { readObject } from '../support/s3'

/** One file of the real-world corpus (tests/fixtures/corpus/README.md) and what the product must do with it. */
interface CorpusFile {
  file: string
  class: string
  tests: string
  format: string
  declaredType: string
  width: number | null
  height: number | null
  expect: 'shown' | 'refused' | 'failed'
}

const ROOT = path.resolve('tests/fixtures/corpus')
const corpus = JSON.parse(readFileSync(path.join(ROOT, 'manifest.json'), 'utf8')) as CorpusFile[]
/** What a page or the log may say, but never the message an admin reads. */
const DECODER_WORDS =
  /vips|libheif|heif:|jpeg:|png:|spng|gif:|webp:|buffer|seek|premature|marker|huffman|0x[0-9a-f]+/i

let admin: Admin
beforeAll(async () => {
  admin = await createTestAdmin('corpus')
})

/** The type an admin's browser sends for the file: its declared type, or the one its extension names. */
function browserType(row: CorpusFile): ImageType | null {
  if ((ALLOWED_IMAGE_TYPES as string[]).includes(row.declaredType)) return row.declaredType as ImageType
  return imageTypeForFileName(row.file)
}

/** The save path without JavaScript: the file streams through the form to staging, is checked, and saved. */
async function saveWithForm(row: CorpusFile, bytes: Buffer) {
  const form = new FormData()
  form.append('name', `Corpus ${row.file} ${randomUUID()}`)
  form.append('price', '1')
  form.append(
    'images',
    new File([new Uint8Array(bytes)], path.basename(row.file), { type: row.declaredType }),
  )
  return submitProductEditor(
    new Request('http://localhost/products/new', { method: 'POST', body: form }),
    admin,
  )
}

/** The uploader's path: the browser PUTs the bytes to staging under the type it sends, and the server checks them. */
async function checkAsUploaded(row: CorpusFile, bytes: Buffer, type: ImageType) {
  const key = newStagingKey(admin.id, type)
  const fileName = path.basename(row.file)
  await recordUpload({
    key,
    adminId: admin.id,
    fileName,
    contentType: type,
    declaredSize: bytes.length,
    multipart: false,
  })
  await getS3().send(
    new PutObjectCommand({ Bucket: getEnv().S3_BUCKET, Key: key, Body: bytes, ContentType: type }),
  )
  return checkStagedUpload(
    { key, adminId: admin.id, contentType: type, fileName, size: bytes.length, expiresAt: refExpiry() },
    getUploadLimits(),
  )
}

async function runImageJobs() {
  await runOnce({
    connectionString: getEnv().DATABASE_URL,
    taskList: { [TASK.processImage]: taskList[TASK.processImage]! },
    logger: new Logger(() => () => {}),
  })
}

describe('the real-world corpus (tests/fixtures/corpus)', () => {
  it.each(corpus.map((row) => [`${row.class}/${path.basename(row.file)}: ${row.expect}`, row] as const))(
    '%s',
    async (_, row) => {
      const bytes = readFileSync(path.join(ROOT, row.file))
      const fileName = path.basename(row.file)
      const type = browserType(row)

      // Both ways in agree on whether the file is taken, and a refusal names the file in words.
      if (type) {
        const check = await checkAsUploaded(row, bytes, type)
        if (row.expect === 'refused') {
          expect(check.ok, `${row.file} passed the uploader's check`).toBe(false)
          if (!check.ok) expect(check.error).toContain(fileName)
        } else {
          expect(check.ok ? null : check.error, `${row.file} was refused`).toBeNull()
        }
      }
      const result = await saveWithForm(row, bytes)
      if (row.expect === 'refused') {
        expect(result.ok, `${row.file} was saved`).toBe(false)
        if (!result.ok) {
          const problems = result.state.imageErrors.join(' ')
          expect(problems).toContain(fileName)
          expect(problems).not.toMatch(DECODER_WORDS)
        }
        return
      }
      if (!result.ok) throw new Error(`${row.file} was refused: ${result.state.imageErrors.join(' ')}`)

      await runImageJobs()
      const product = (await getProduct({ productId: result.productId }))!
      const [image] = product.images
      const processing = (await getProcessing([image!.processingId])).get(image!.processingId)!
      // Never left "being prepared".
      expect(processing.status).not.toBe('pending')
      // The original is kept exactly as uploaded.
      expect((await readObject(image!.key)).bytes.equals(bytes)).toBe(true)

      if (row.expect === 'failed') {
        expect(processing.status, `${row.file} was shown`).toBe('failed')
        const [view] = await imageViews(product.images)
        expect(view!.fileName).toBe(fileName)
        expect(view!.failure).toMatch(/add it again|add it\.|export/)
        expect(view!.failure).not.toMatch(DECODER_WORDS)
        return
      }

      expect(processing.status, `${row.file}: ${processing.failure}`).toBe('ready')
      const largest = processing.variants.at(-1)!
      expect(largest.width).toBeLessThanOrEqual(VARIANT_WIDTHS.at(-1)!)
      const variant = (await readObject(largest.key)).bytes
      const meta = await sharp(variant).metadata()
      expect(meta.space).toBe('srgb')
      expect({ exif: meta.exif, xmp: meta.xmp, icc: meta.icc, iptc: meta.iptc }).toEqual({
        exif: undefined,
        xmp: undefined,
        icc: undefined,
        iptc: undefined,
      })
      // Upright: the variant has the shape the photo has when shown as its camera meant.
      if (row.width && row.height) {
        expect(largest.width).toBe(Math.min(row.width, VARIANT_WIDTHS.at(-1)!))
        expect(Math.abs(largest.height - (row.height * largest.width) / row.width)).toBeLessThanOrEqual(1)
      }
    },
  )

  it('shows the eight EXIF orientations of one photo alike: upright, not mirrored', async () => {
    const pixels = async (file: string) => {
      const made = await makeVariants(readFileSync(path.join(ROOT, 'orientation', file)), { maxPixels: 50e6 })
      return sharp(made.variants.at(-1)!.data).resize(48, 36, { fit: 'fill' }).removeAlpha().raw().toBuffer()
    }
    const upright = await pixels('landscape-1.jpg')
    for (let orientation = 2; orientation <= 8; orientation++) {
      const other = await pixels(`landscape-${orientation}.jpg`)
      let difference = 0
      for (let i = 0; i < upright.length; i++) difference += Math.abs(upright[i]! - other[i]!)
      // Turned or mirrored, the same photo differs by far more than its JPEG noise (about 1 per channel).
      expect(difference / upright.length, `orientation ${orientation}`).toBeLessThan(6)
    }
  })
})
