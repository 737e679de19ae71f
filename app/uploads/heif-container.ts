import type { ImageType } from './image-types'

/** What a HEIF-family file (HEIC, HEIF, AVIF) says of itself in its boxes, before anything is decoded. */
export interface HeifContainer {
  type: Extract<ImageType, 'image/avif' | 'image/heic' | 'image/heif'>
  /** The major brand, then the compatible ones. */
  brands: string[]
  /** The primary image item's type: 'hvc1' (HEVC), 'av01' (AV1), 'grid', 'iden', 'jpeg'…; null when none. */
  primaryType: string | null
  /** The primary image as shown (its `ispe`, cropped by `clap`, turned by `irot`); or the first track's. */
  width: number | null
  height: number | null
  /**
   * Where the file's next top-level box starts when `head` ended before a `meta` box was found (phones
   * that write the image data first): read from there and hand it to readHeifTail. Null otherwise.
   */
  continueAt: number | null
}

/** HEVC-coded images and sequences (ISO/IEC 23008-12 Annex B). */
const HEIC_BRANDS = ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']
const AVIF_BRANDS = ['avif', 'avis']
/** Any HEIF image or sequence, whatever its codec. */
const HEIF_BRANDS = ['mif1', 'msf1', 'mif2', 'mif3']

interface Box {
  type: string
  /** Where the box's content starts and ends (after its header), within the bytes at hand. */
  start: number
  end: number
  /** Where the box ends in the file, which may be past the bytes at hand. */
  fullEnd: number
}

/**
 * Reads a HEIF-family file's `ftyp`, and its `meta` box for the primary item's size and type (or a
 * sequence's first track), from the first bytes of the file. Null when the bytes are not HEIF; width
 * and height are null when the boxes that give them are not within `head`.
 *
 * Ours, not a library's: image-size (which the other formats use) takes the first `ispe` in the file,
 * which may be a thumbnail's or a tile's, and ignores `irot`; libheif needs the whole file.
 */
export function readHeifContainer(head: Uint8Array): HeifContainer | null {
  const view = viewOf(head)
  const top = boxes(view, 0, head.length)
  const ftyp = top[0]
  if (!ftyp || ftyp.type !== 'ftyp' || ftyp.end - ftyp.start < 8) return null
  const brands = [fourcc(view, ftyp.start)]
  for (let at = ftyp.start + 8; at + 4 <= ftyp.end; at += 4) brands.push(fourcc(view, at))
  const type = typeOf(brands)
  if (!type) return null
  const container: HeifContainer = {
    type,
    brands,
    primaryType: null,
    width: null,
    height: null,
    continueAt: null,
  }
  readTopLevel(view, top, container)
  const last = top.at(-1)!
  if (!top.some((box) => box.type === 'meta') && last.fullEnd > head.length)
    container.continueAt = last.fullEnd
  return container
}

/** The container, completed from `tail`: the file's bytes from its `continueAt`. */
export function readHeifTail(container: HeifContainer, tail: Uint8Array): HeifContainer {
  const completed = { ...container, continueAt: null }
  const view = viewOf(tail)
  readTopLevel(view, boxes(view, 0, tail.length), completed)
  return completed
}

/**
 * True when a HEIF's top-level boxes run past the end of the file (it was cut short): libheif decodes
 * a grid whose tiles are missing without a word.
 */
export function isHeifTruncated(file: Uint8Array) {
  const view = viewOf(file)
  const top = boxes(view, 0, file.length)
  return top.length === 0 || top.at(-1)!.fullEnd > file.length
}

function readTopLevel(view: DataView, top: Box[], container: HeifContainer) {
  const meta = top.find((box) => box.type === 'meta')
  if (meta) {
    try {
      Object.assign(container, readPrimary(view, meta))
    } catch {
      // A box that runs past the bytes at hand or is malformed: the size stays unknown, and the check says so.
    }
  }
  const moov = top.find((box) => box.type === 'moov')
  if (container.width === null && moov) {
    try {
      Object.assign(container, readFirstTrack(view, moov))
    } catch {
      // As above.
    }
  }
}

function viewOf(bytes: Uint8Array) {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function typeOf(brands: string[]): HeifContainer['type'] | null {
  const [major = ''] = brands
  if (AVIF_BRANDS.includes(major)) return 'image/avif'
  if (HEIC_BRANDS.includes(major)) return 'image/heic'
  if (brands.some((b) => AVIF_BRANDS.includes(b))) return 'image/avif'
  if (brands.some((b) => HEIC_BRANDS.includes(b))) return 'image/heic'
  if (brands.some((b) => HEIF_BRANDS.includes(b))) return 'image/heif'
  return null
}

function readPrimary(view: DataView, meta: Box) {
  // meta is a FullBox: version and flags come before its children.
  const children = boxes(view, meta.start + 4, meta.end)
  const pitm = children.find((b) => b.type === 'pitm')
  const iinf = children.find((b) => b.type === 'iinf')
  const iprp = children.find((b) => b.type === 'iprp')
  if (!pitm) return {}
  const primary =
    view.getUint8(pitm.start) === 0 ? view.getUint16(pitm.start + 4) : view.getUint32(pitm.start + 4)

  let primaryType: string | null = null
  if (iinf) {
    const version = view.getUint8(iinf.start)
    const first = iinf.start + 4 + (version === 0 ? 2 : 4)
    for (const infe of boxes(view, first, iinf.end)) {
      if (infe.type !== 'infe') continue
      const infeVersion = view.getUint8(infe.start)
      if (infeVersion < 2) continue
      const id = infeVersion === 2 ? view.getUint16(infe.start + 4) : view.getUint32(infe.start + 4)
      const typeAt = infe.start + 4 + (infeVersion === 2 ? 2 : 4) + 2
      if (id === primary) primaryType = fourcc(view, typeAt)
    }
  }
  if (!iprp) return { primaryType }

  const parts = boxes(view, iprp.start, iprp.end)
  const ipco = parts.find((b) => b.type === 'ipco')
  const properties = ipco ? boxes(view, ipco.start, ipco.end) : []
  let width: number | null = null
  let height: number | null = null
  for (const ipma of parts.filter((b) => b.type === 'ipma')) {
    const version = view.getUint8(ipma.start)
    const wideIndex = (view.getUint32(ipma.start) & 1) === 1
    let at = ipma.start + 4
    const entries = view.getUint32(at)
    at += 4
    for (let e = 0; e < entries; e++) {
      const id = version < 1 ? view.getUint16(at) : view.getUint32(at)
      at += version < 1 ? 2 : 4
      const count = view.getUint8(at)
      at += 1
      for (let a = 0; a < count; a++) {
        const index = wideIndex ? view.getUint16(at) & 0x7fff : view.getUint8(at) & 0x7f
        at += wideIndex ? 2 : 1
        const property = index > 0 ? properties[index - 1] : undefined
        if (id !== primary || !property) continue
        // Transformations apply in the order they are associated: a crop, then a quarter turn.
        if (property.type === 'ispe') {
          width = view.getUint32(property.start + 4)
          height = view.getUint32(property.start + 8)
        } else if (property.type === 'clap' && width !== null && height !== null) {
          const cropped = (offset: number) =>
            Math.floor(
              view.getUint32(property.start + offset) /
                Math.max(1, view.getUint32(property.start + offset + 4)),
            )
          width = Math.min(width, cropped(0))
          height = Math.min(height, cropped(8))
        } else if (property.type === 'irot' && width !== null && height !== null) {
          if ((view.getUint8(property.start) & 3) % 2 === 1) [width, height] = [height, width]
        }
      }
    }
  }
  return { primaryType, width, height }
}

/** A sequence with no still image (an .avifs, say): the first track's header gives its size. */
function readFirstTrack(view: DataView, moov: Box) {
  const trak = boxes(view, moov.start, moov.end).find((b) => b.type === 'trak')
  const tkhd = trak && boxes(view, trak.start, trak.end).find((b) => b.type === 'tkhd')
  if (!tkhd) return {}
  // Width and height are 16.16 fixed point at the end of the track header.
  const width = view.getUint32(tkhd.end - 8) >>> 16
  const height = view.getUint32(tkhd.end - 4) >>> 16
  return width > 0 && height > 0 ? { width, height } : {}
}

/** The boxes between `start` and `end`; a box that runs past the bytes at hand ends the list. */
function boxes(view: DataView, start: number, end: number): Box[] {
  const found: Box[] = []
  let at = start
  while (at + 8 <= Math.min(end, view.byteLength)) {
    let size = view.getUint32(at)
    const type = fourcc(view, at + 4)
    let header = 8
    if (size === 1) {
      if (at + 16 > view.byteLength) break
      size = Number(view.getBigUint64(at + 8))
      header = 16
    } else if (size === 0) {
      size = end - at
    }
    if (size < header) break
    const boxEnd = at + size
    found.push({ type, start: at + header, end: Math.min(boxEnd, end), fullEnd: boxEnd })
    if (boxEnd > view.byteLength) break
    at = boxEnd
  }
  return found
}

function fourcc(view: DataView, at: number) {
  if (at + 4 > view.byteLength) return ''
  return String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  )
}
