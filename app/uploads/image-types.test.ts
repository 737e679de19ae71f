import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { formatsTable, imageTypeForFileName } from './image-types'

/** A Markdown table's rows as trimmed cells, whatever its column padding. */
const cells = (table: string) =>
  table
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    )

describe('the table of image types', () => {
  it('is the README’s table of supported formats', () => {
    const readme = readFileSync('README.md', 'utf8')
    const section = readme.slice(readme.indexOf('## Supported formats'))
    const table = section.slice(
      section.indexOf('| format'),
      section.indexOf('\n\n', section.indexOf('| format')),
    )
    expect(cells(table)).toEqual(cells(formatsTable()))
  })

  it('names the type of files browsers hand over without one, by extension', () => {
    expect(imageTypeForFileName('IMG_0042.HEIC')).toBe('image/heic')
    expect(imageTypeForFileName('DSC.hif')).toBe('image/heic')
    expect(imageTypeForFileName('photo.heif')).toBe('image/heif')
    expect(imageTypeForFileName('loop.avifs')).toBe('image/avif')
    expect(imageTypeForFileName('notes.txt')).toBeNull()
    expect(imageTypeForFileName('no-extension')).toBeNull()
  })
})
