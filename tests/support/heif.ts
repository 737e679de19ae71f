/** ISOBMFF boxes, as HEIF files (HEIC, HEIF, AVIF) lay them out, for tests of the container reader. */
export function box(type: string, ...body: Buffer[]) {
  const content = Buffer.concat(body)
  const head = Buffer.alloc(8)
  head.writeUInt32BE(8 + content.length)
  head.write(type, 4, 'latin1')
  return Buffer.concat([head, content])
}

/** A FullBox: version and flags before the content. */
export function fullBox(type: string, version: number, flags: number, ...body: Buffer[]) {
  const vf = Buffer.alloc(4)
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff))
  return box(type, vf, ...body)
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff])
const u32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

export interface HeifItem {
  id: number
  type: string
  width: number
  height: number
  /** Quarter turns counter-clockwise (irot). */
  rotate?: number
}

/**
 * The first bytes of a HEIF file: ftyp with `brands` (the first is the major one) and a meta box whose
 * items each have an ispe (and an irot when `rotate` is set), `primary` naming the primary item. The
 * properties are listed in the order of `items`, so a thumbnail can come before the primary image.
 */
export function heifHead({
  brands,
  items,
  primary,
}: {
  brands: string[]
  items: HeifItem[]
  primary: number
}) {
  const [major = 'heic', ...compatible] = brands
  const ftyp = box(
    'ftyp',
    Buffer.from(major, 'latin1'),
    u32(0),
    ...compatible.map((b) => Buffer.from(b, 'latin1')),
  )
  const properties: Buffer[] = []
  const associations: Buffer[] = []
  for (const item of items) {
    const indices: number[] = []
    properties.push(fullBox('ispe', 0, 0, u32(item.width), u32(item.height)))
    indices.push(properties.length)
    if (item.rotate) {
      properties.push(box('irot', Buffer.from([item.rotate & 3])))
      indices.push(properties.length)
    }
    associations.push(
      Buffer.concat([u16(item.id), Buffer.from([indices.length, ...indices.map((i) => 0x80 | i)])]),
    )
  }
  const infes = items.map((item) =>
    fullBox('infe', 2, 0, u16(item.id), u16(0), Buffer.from(item.type, 'latin1'), Buffer.from([0])),
  )
  const meta = fullBox(
    'meta',
    0,
    0,
    fullBox('hdlr', 0, 0, u32(0), Buffer.from('pict', 'latin1'), Buffer.alloc(12), Buffer.from([0])),
    fullBox('pitm', 0, 0, u16(primary)),
    fullBox('iinf', 0, 0, u16(items.length), ...infes),
    box('iprp', box('ipco', ...properties), fullBox('ipma', 0, 0, u32(items.length), ...associations)),
  )
  return Buffer.concat([ftyp, meta, box('mdat', Buffer.alloc(64))])
}
