import type { Page } from '@playwright/test'

export interface DropFile {
  name: string
  type: string
  /** Width and height of a real PNG drawn in the page. */
  width: number
  height: number
  /** Pads the PNG after its end marker to reach this size (decoders ignore trailing bytes). */
  padTo?: number
  /** Raw bytes instead of a PNG, e.g. HTML pretending to be an image. */
  text?: string
  /** A file's bytes, base64, instead of a PNG, e.g. a camera JPEG made in Node. */
  base64?: string
}

/**
 * Drops files on the Uppy Dashboard the way a browser does for a real drag from the desktop: a
 * DataTransfer with File objects, through dragenter, dragover and drop. The PNGs are drawn with a
 * canvas in the page, so nothing large crosses the Playwright protocol.
 */
export async function dropFiles(page: Page, files: DropFile[]) {
  const target = page.locator('.uppy-Dashboard-inner')
  await target.waitFor()
  const dataTransfer = await page.evaluateHandle(async (specs) => {
    const transfer = new DataTransfer()
    for (const spec of specs) {
      let parts: BlobPart[]
      if (spec.text !== undefined) {
        parts = [spec.text]
      } else if (spec.base64 !== undefined) {
        parts = [Uint8Array.from(atob(spec.base64), (char) => char.charCodeAt(0))]
      } else {
        const canvas = document.createElement('canvas')
        canvas.width = spec.width
        canvas.height = spec.height
        const context = canvas.getContext('2d')!
        context.fillStyle = `hsl(${(spec.width * 37) % 360} 70% 50%)`
        context.fillRect(0, 0, spec.width, spec.height)
        context.fillStyle = '#fff'
        context.font = `${Math.max(10, spec.height / 4)}px sans-serif`
        context.fillText(spec.name, 4, spec.height / 2)
        const png = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), 'image/png'))
        parts = [png]
        if (spec.padTo && spec.padTo > png.size) parts.push(new Uint8Array(spec.padTo - png.size))
      }
      transfer.items.add(new File(parts, spec.name, { type: spec.type }))
    }
    return transfer
  }, files)
  for (const type of ['dragenter', 'dragover', 'drop']) {
    await target.dispatchEvent(type, { dataTransfer })
  }
}
