/**
 * A bitmap `width` pixels wide of an image file, upright as its EXIF orientation says, for a thumbnail.
 * A JPEG is decoded scaled down by its decoder (WebCodecs' ImageDecoder with a desired size: libjpeg
 * decodes at 1/2, 1/4 or 1/8), which for a 12 MP phone photo takes about a third of the time of
 * decoding it whole (`npm run bench -- thumbnails`). Other types, and browsers without ImageDecoder,
 * are decoded whole and then scaled (createImageBitmap).
 */
export async function thumbnailBitmap(file: Blob, width: number): Promise<ImageBitmap> {
  const resize = { resizeWidth: width, resizeQuality: 'medium' } as const
  if (file.type !== 'image/jpeg' || typeof ImageDecoder === 'undefined') {
    return createImageBitmap(file, resize)
  }
  // Both sides at least `width`: the decoder picks the smallest scale that covers them, so the
  // shorter side of any aspect ratio stays wide enough to scale down from.
  const decoder = new ImageDecoder({
    data: file.stream(),
    type: file.type,
    desiredWidth: width,
    desiredHeight: width,
  })
  try {
    const { image } = await decoder.decode()
    try {
      // The frame carries the EXIF rotation, which createImageBitmap applies.
      return await createImageBitmap(image, resize)
    } finally {
      image.close()
    }
  } finally {
    decoder.close()
  }
}
