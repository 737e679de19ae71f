import postgres from 'postgres'
import { TEST_ADMIN } from '../../tests/support/services'
import { median, startBenchApp, type Row } from './support'

const PRODUCTS = 10_000
const IMAGES_PER_PRODUCT = 5
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200)

/** GET /products on 10,000 products and 50,000 images (each with 2 variants): page 1 and one 200 pages deep. */
export async function benchListing(): Promise<Row[]> {
  const ctx = await startBenchApp({})
  const sql = postgres(ctx.services.env.DATABASE_URL!, { max: 1, onnotice: () => {} })
  try {
    const [admin] = await sql<{ id: number }[]>`select id from admins where email = ${TEST_ADMIN.email}`
    await sql`
      insert into products (id, name, price_cents, description, created_by, created_at)
      select gen_random_uuid(), 'Product ' || g, 100 + g, '', ${admin!.id}, now() - g * interval '1 second'
      from generate_series(1, ${PRODUCTS}) g`
    await sql`
      insert into image_processing (source_key, status, variant_version, placeholder, color)
      select 'originals/' || p.id || '/' || n || '.png', 'ready', 'bench', 'I/gBBYCHdnZ3l5ZueneYf9mvC321', '#989898'
      from products p, generate_series(0, ${IMAGES_PER_PRODUCT - 1}) n`
    await sql`
      insert into image_variants (processing_id, format, width, height, byte_size, key)
      select id, 'webp', w, w * 3 / 4, 1000, 'variants/' || id || '/bench/' || w || '.webp'
      from image_processing, unnest(array[256, 512]) w`
    await sql`
      insert into product_images (id, product_id, key, content_type, byte_size, width, height, position, processing_id)
      select gen_random_uuid(), p.id, pr.source_key, 'image/png', 1000, 640, 480, n, pr.id
      from products p
      cross join generate_series(0, ${IMAGES_PER_PRODUCT - 1}) n
      join image_processing pr on pr.source_key = 'originals/' || p.id || '/' || n || '.png'`
    await sql`analyze`
    // The cursor the "Older products" link carries on page 200.
    const [deep] = await sql<{ cursor: string }[]>`
      select (extract(epoch from created_at) * 1000000)::bigint || '_' || id as cursor
      from products order by created_at desc, id desc offset ${24 * 200 - 1} limit 1`

    const time = async (path: string) => {
      const samples: number[] = []
      for (let i = 0; i < REQUESTS + 10; i++) {
        const started = performance.now()
        const response = await fetch(`${ctx.app.url}${path}`, { headers: { Cookie: ctx.cookie } })
        const html = await response.text()
        if (response.status !== 200 || !html.includes('Older products'))
          throw new Error(`${path} answered ${response.status}`)
        if (i >= 10) samples.push(performance.now() - started) // the first ten warm up
      }
      samples.sort((a, b) => a - b)
      return { p50: median(samples), p95: samples[Math.floor(samples.length * 0.95)]! }
    }
    const first = await time('/products')
    const deepPage = await time(`/products?after=${deep!.cursor}`)
    const row = (name: string, r: { p50: number; p95: number }): Row => ({
      benchmark: name,
      measured: `p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms`,
      baseline: '-',
      result: `${r.p50.toFixed(1)} ms`,
      goal: 'p50 < 30 ms',
      verdict: r.p50 < 30 ? 'PASS' : 'MISS',
    })
    return [
      row('/products, 10,000 products + 50,000 images: page 1', first),
      row('/products, same data: page 200 (keyset cursor)', deepPage),
    ]
  } finally {
    await sql.end()
    await ctx.app.stop()
    await ctx.services.stop()
  }
}
