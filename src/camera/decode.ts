import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeBmp, isBmp } from './bmp.js';
import { DEFAULT_MAX_PIXELS, ImageDecodeError, ImageTooLargeError, type DecodedImage } from './image.js';

export { DEFAULT_MAX_PIXELS, ImageDecodeError, ImageTooLargeError, type DecodedImage };

/**
 * Any image file -> RGB, 3 channels, EXIF orientation applied, alpha flattened onto black.
 * BMP goes through our own reader (libvips has none); everything else (JPEG, PNG, WebP, GIF, TIFF, AVIF) through sharp,
 * which decodes on libuv's thread pool, so the event loop is not blocked.
 * An image of more than `maxPixels` pixels is refused from its header (ImageTooLargeError), before any decoding.
 */
export async function decodeImage(bytes: Buffer, origin: string, maxPixels = DEFAULT_MAX_PIXELS, atLeast?: DecodeSize): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError(origin, 'empty file');
  if (isBmp(bytes)) return decodeBmp(bytes, origin, maxPixels);
  try {
    await refuseIfTooLarge(bytes, origin, maxPixels);
    // failOn 'truncated': a cut-off JPEG must fail instead of coming back as a half grey picture, while the
    // harmless libjpeg warnings many cameras trigger ("extraneous bytes before marker") still decode.
    // limitInputPixels: libvips' own check of the same limit, should a header lie to metadata() and not to the loader.
    let image = sharp(bytes, { failOn: 'truncated', limitInputPixels: maxPixels }).rotate(); // no angle: apply the EXIF orientation
    // Scaled down on load: libjpeg decodes at 1/2, 1/4 or 1/8 scale for almost nothing, then libvips resizes the
    // rest of the way, so a large photo costs what its smaller picture does. Never enlarged.
    if (atLeast) image = image.resize({ width: atLeast.width, height: atLeast.height, fit: 'outside', withoutEnlargement: true });
    const { data, info } = await image
      .flatten()
      .toColourspace('srgb') // greyscale and CMYK sources come out as 3 channels too
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageDecodeError(origin, `decoder returned ${info.channels} channels`);
    return { width: info.width, height: info.height, data };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw err;
    throw new ImageDecodeError(origin, sharpReason(err));
  }
}

/** The smallest picture a decode must give: both sides at least this (the aspect ratio kept). */
export interface DecodeSize {
  width: number;
  height: number;
}

export async function decodeImageFile(path: string, maxPixels = DEFAULT_MAX_PIXELS, atLeast?: DecodeSize): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ImageDecodeError(path, `cannot read: ${(err as Error).message}`);
  }
  return decodeImage(bytes, path, maxPixels, atLeast);
}

/** metadata() reads the header only: the size is known before a single pixel is decoded. */
async function refuseIfTooLarge(bytes: Buffer, origin: string, maxPixels: number): Promise<void> {
  const { width = 0, height = 0, pageHeight } = await sharp(bytes).metadata();
  // Only the first page of a multi-page image (GIF, TIFF, animated WebP) is decoded.
  const rows = pageHeight ?? height;
  if (width * rows > maxPixels) throw new ImageTooLargeError(origin, width, rows, maxPixels);
}

/** First line of libvips' message only: its multi-line dumps and stacks do not belong in a log line. */
function sharpReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('unsupported image format')) return 'not a supported image format (JPEG, PNG, WebP, GIF, TIFF, AVIF, BMP)';
  return message.split('\n')[0]!.trim() || 'unknown decoder error';
}
