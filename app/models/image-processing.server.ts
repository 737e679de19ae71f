import type { TransactionSql } from 'postgres'
import { getSql, type Sql } from '~/utils/db.server'
import type { VariantFormat } from '~/images/variants'
import { queueDeletions } from './storage-deletion.server'

type Db = TransactionSql | Sql

/**
 * How long a claim on an image lasts unless its holder renews it (every third of this, while it works):
 * a holder that dies gives the image back within this, before the queue releases its job.
 */
export const CLAIM_SECONDS = 15

export interface VariantRecord {
  format: VariantFormat
  width: number
  height: number
  byteSize: number
  key: string
}

/** What pages need of an image's processing: its variants once ready, its placeholder before. */
export interface Processing {
  status: 'pending' | 'ready' | 'failed'
  failure: string | null
  placeholder: string | null
  color: string | null
  variants: VariantRecord[]
}

/**
 * The processing records of checked uploads, created on first call: an upload's variants are made as
 * soon as it is checked, before the form is saved. Returns each one's id, in order, and whether it
 * still needs a job.
 */
export async function ensureProcessing(
  db: Db,
  sources: readonly { sourceKey: string; etag: string }[],
): Promise<{ id: string; pending: boolean }[]> {
  if (sources.length === 0) return []
  const keys = sources.map((s) => s.sourceKey)
  await db`
    insert into image_processing (source_key, source_etag)
    select * from unnest(${keys}::text[], ${sources.map((s) => s.etag)}::text[])
    on conflict (source_key) do nothing`
  const rows = await db<{ id: string; status: Processing['status']; sourceKey: string }[]>`
    select id, status, source_key as "sourceKey" from image_processing where source_key in ${db(keys)}`
  const byKey = new Map(rows.map((row) => [row.sourceKey, row]))
  return keys.map((key) => ({ id: byKey.get(key)!.id, pending: byKey.get(key)!.status === 'pending' }))
}

/**
 * Hands uploads' processing over to the product's copies of them (in the attaching transaction): the
 * variants already made stay, and any still to make are made from the copy, which outlives staging.
 * A failure while staged (say, staging expired mid-retry) gets another go. Returns ids in order.
 */
export async function moveProcessingSources(
  tx: TransactionSql,
  moves: readonly { stagingKey: string; originalKey: string; etag: string }[],
): Promise<{ id: string; pending: boolean }[]> {
  const processing = await ensureProcessing(
    tx,
    moves.map((m) => ({ sourceKey: m.stagingKey, etag: m.etag })),
  )
  if (processing.length === 0) return []
  const rows = await tx<{ id: string; status: Processing['status'] }[]>`
    update image_processing as p
    set source_key = v.original_key, source_etag = null, updated_at = now(),
        status = case when p.status = 'failed' then 'pending' else p.status end,
        failure = case when p.status = 'failed' then null else p.failure end
    from unnest(${processing.map((p) => p.id)}::uuid[], ${moves.map((m) => m.originalKey)}::text[])
      as v (id, original_key)
    where p.id = v.id
    returning p.id, p.status`
  const status = new Map(rows.map((row) => [row.id, row.status]))
  return processing.map(({ id }) => ({ id, pending: status.get(id) === 'pending' }))
}

/** An image held by one worker: `claimId` fences its renewals and its save. */
export interface Claim {
  claimId: string
  sourceKey: string
  etag: string | null
}

/**
 * Claims an image for `holder` (host/pid, for people reading the table) if it needs variants (none
 * yet, or made with another variant set) and no live claim is on it. 'busy': another holder renews
 * one; 'done': nothing to do (or no such image).
 */
export async function claimProcessing({
  id,
  version,
  holder,
}: {
  id: string
  version: string
  holder: string
}): Promise<Claim | 'busy' | 'done'> {
  const sql = getSql()
  const [claimed] = await sql<Claim[]>`
    update image_processing
    set claimed_until = now() + ${CLAIM_SECONDS} * interval '1 second', claim_id = gen_random_uuid(),
        claimed_by = ${holder.slice(0, 200)}, claimed_at = now()
    where id = ${id}
      and (claimed_until is null or claimed_until < now())
      and (status = 'pending' or variant_version is distinct from ${version})
    returning claim_id as "claimId", source_key as "sourceKey", source_etag as etag`
  if (claimed) return claimed
  const [held] = await sql`
    select 1 from image_processing where id = ${id} and claimed_until >= now()
      and (status = 'pending' or variant_version is distinct from ${version})`
  return held ? 'busy' : 'done'
}

/**
 * Extends a claim by CLAIM_SECONDS from now. False if it is no longer this claim (it lapsed and
 * another holder took the image, or the image is gone): the holder's save will be refused.
 */
export async function renewClaim({ id, claimId }: { id: string; claimId: string }) {
  const rows = await getSql()`
    update image_processing set claimed_until = now() + ${CLAIM_SECONDS} * interval '1 second'
    where id = ${id} and claim_id = ${claimId}
    returning 1`
  return rows.length > 0
}

/** Lets another attempt claim the image at once (this one failed and will be retried). */
export async function releaseProcessing({ id, claimId }: { id: string; claimId: string }) {
  await getSql()`
    update image_processing set claimed_until = null, claim_id = null, claimed_by = null, claimed_at = null
    where id = ${id} and claim_id = ${claimId}`
}

/** The current source of an image's processing (it moves from staging to the product at save). */
export async function processingSource(id: string) {
  const [row] = await getSql()<{ sourceKey: string; etag: string | null }[]>`
    select source_key as "sourceKey", source_etag as etag from image_processing where id = ${id}`
  return row ?? null
}

/**
 * Records variants whose objects now exist, in place of the ones before (returned, for deletion).
 * Null when the image was deleted meanwhile, or another holder has claimed it since `claimId` (this
 * holder's lease lapsed): the caller deletes the new objects, and one set of variants is ever saved
 * per claim.
 */
export async function saveVariants(
  tx: TransactionSql,
  {
    id,
    claimId,
    version,
    variants,
    placeholder,
    color,
  }: {
    id: string
    claimId: string
    version: string
    variants: VariantRecord[]
    placeholder: string
    color: string
  },
): Promise<{ replaced: string[] } | null> {
  // A lapsed lease nobody else took is still this claim (only a new claim changes claim_id).
  const [row] = await tx`
    select 1 from image_processing where id = ${id} and claim_id = ${claimId} for update`
  if (!row) return null
  const replaced = await tx<{ key: string }[]>`
    delete from image_variants where processing_id = ${id} returning key`
  await tx`
    insert into image_variants ${tx(
      variants.map((v) => ({
        processing_id: id,
        format: v.format,
        width: v.width,
        height: v.height,
        byte_size: v.byteSize,
        key: v.key,
      })),
    )}`
  await tx`
    update image_processing
    set status = 'ready', failure = null, variant_version = ${version}, placeholder = ${placeholder},
        color = ${color}, claimed_until = null, claim_id = null, claimed_by = null, claimed_at = null, updated_at = now()
    where id = ${id}`
  return { replaced: replaced.map((r) => r.key) }
}

/**
 * Processing failed for good under `claimId`: the pages say why; variants made by an earlier run stay.
 * Nothing happens if another holder has claimed the image since (its own run decides).
 */
export async function failProcessing({
  id,
  claimId,
  failure,
}: {
  id: string
  claimId: string
  failure: string
}) {
  await getSql()`
    update image_processing
    set status = case when status = 'ready' then 'ready' else 'failed' end,
        failure = ${failure.slice(0, 500)}, claimed_until = null, claim_id = null, claimed_by = null, claimed_at = null,
        updated_at = now()
    where id = ${id} and claim_id = ${claimId}`
}

/**
 * Forgets images that are gone (their rows deleted in `tx`): queues their originals and their variants
 * for deletion once `tx` commits, and deletes their processing records.
 */
export async function forgetImages(
  tx: TransactionSql,
  images: readonly { key?: string; processingId: string }[],
) {
  if (images.length === 0) return
  const ids = images.map((image) => image.processingId)
  const variants = await tx<{ key: string }[]>`
    select key from image_variants where processing_id in ${tx(ids)}`
  await tx`delete from image_processing where id in ${tx(ids)}`
  await queueDeletions(tx, [
    ...images.flatMap((image) => (image.key ? [image.key] : [])),
    ...variants.map((v) => v.key),
  ])
}

/**
 * Forgets the processing of uploads that were never attached and are older than `olderThanMs` (their
 * staging objects expire with them), queueing their variants for deletion. Returns how many.
 */
export async function forgetUnattachedProcessing({
  sql = getSql(),
  olderThanMs,
  stagingPrefix,
}: {
  sql?: Sql
  olderThanMs: number
  stagingPrefix: string
}) {
  return sql.begin(async (tx) => {
    const rows = await tx<{ id: string }[]>`
      select p.id from image_processing p
      where p.source_key like ${`${stagingPrefix}%`}
        and p.created_at < now() - ${olderThanMs} * interval '1 millisecond'
        and not exists (select 1 from product_images i where i.processing_id = p.id)
      for update skip locked`
    await forgetImages(
      tx,
      rows.map((r) => ({ processingId: r.id })),
    )
    return rows.length
  })
}

/**
 * Attached images still waiting for variants with no job queued for them (saved before variants
 * existed, or their job was lost): the hourly cleanup queues them again. Returns their ids.
 */
export async function stalledProcessing({ sql = getSql(), olderThanMs }: { sql?: Sql; olderThanMs: number }) {
  const rows = await sql<{ id: string }[]>`
    select p.id from image_processing p
    where p.status = 'pending'
      and p.updated_at < now() - ${olderThanMs} * interval '1 millisecond'
      and exists (select 1 from product_images i where i.processing_id = p.id)
      and not exists (select 1 from graphile_worker.jobs j where j.key = 'image:' || p.id)`
  return rows.map((row) => row.id)
}

/** The processing of each id (variants smallest first), for the pages that show the images. */
export async function getProcessing(ids: readonly string[]): Promise<Map<string, Processing>> {
  const found = new Map<string, Processing>()
  if (ids.length === 0) return found
  const sql = getSql()
  const rows = await sql<(Omit<Processing, 'variants'> & { id: string; variants: VariantRecord[] })[]>`
    select p.id, p.status, p.failure, p.placeholder, p.color,
           coalesce(
             (select json_agg(json_build_object('format', v.format, 'width', v.width, 'height', v.height,
                                                'byteSize', v.byte_size, 'key', v.key) order by v.width)
              from image_variants v where v.processing_id = p.id),
             '[]') as variants
    from image_processing p where p.id in ${sql(ids)}`
  for (const { id, ...processing } of rows) found.set(id, processing)
  return found
}

/**
 * Attached images (of one product, or all) whose variants were made with another variant set, or
 * never: `npm run images:reprocess` counts them, then walks them in id order, a page after `after` at
 * a time, and so resumes where it stopped.
 */
function outdated(sql: Sql, version: string, productId: string | null) {
  return sql`
    (p.status = 'pending' or p.variant_version is distinct from ${version})
    and exists (
      select 1 from product_images i
      where i.processing_id = p.id ${productId ? sql`and i.product_id = ${productId}` : sql``})`
}

export async function outdatedProcessing({
  version,
  productId = null,
  after,
  limit,
}: {
  version: string
  productId?: string | null
  after: string | null
  limit: number
}) {
  const sql = getSql()
  return sql<{ id: string }[]>`
    select p.id from image_processing p
    where ${outdated(sql, version, productId)} ${after ? sql`and p.id > ${after}` : sql``}
    order by p.id
    limit ${limit}`
}

export async function countOutdatedProcessing(version: string, productId: string | null = null) {
  const sql = getSql()
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from image_processing p where ${outdated(sql, version, productId)}`
  return row!.n
}

/** The processing of the upload stored at `sourceKey` (staging or the product's copy); null before its check. */
export async function processingOfSource(sourceKey: string): Promise<Processing | null> {
  const sql = getSql()
  const [row] = await sql<{ id: string }[]>`select id from image_processing where source_key = ${sourceKey}`
  if (!row) return null
  return (await getProcessing([row.id])).get(row.id) ?? null
}
