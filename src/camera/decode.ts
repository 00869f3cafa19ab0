import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeBmp, isBmp } from './bmp.js';
import { ImageDecodeError, type DecodedImage } from './image.js';

export { ImageDecodeError, type DecodedImage };

/**
 * Any image file -> RGB, 3 channels, EXIF orientation applied, alpha flattened onto black.
 * BMP goes through our own reader (libvips has none); everything else (JPEG, PNG, WebP, GIF, TIFF, AVIF) through sharp,
 * which decodes on libuv's thread pool, so the event loop is not blocked.
 */
export async function decodeImage(bytes: Buffer, origin: string): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError(origin, 'empty file');
  if (isBmp(bytes)) return decodeBmp(bytes, origin);
  try {
    // failOn 'truncated': a cut-off JPEG must fail instead of coming back as a half grey picture, while the
    // harmless libjpeg warnings many cameras trigger ("extraneous bytes before marker") still decode.
    const { data, info } = await sharp(bytes, { failOn: 'truncated' })
      .rotate() // no angle: apply the EXIF orientation
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

export async function decodeImageFile(path: string): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ImageDecodeError(path, `cannot read: ${(err as Error).message}`);
  }
  return decodeImage(bytes, path);
}

/** First line of libvips' message only: its multi-line dumps and stacks do not belong in a log line. */
function sharpReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('unsupported image format')) return 'not a supported image format (JPEG, PNG, WebP, GIF, TIFF, AVIF, BMP)';
  return message.split('\n')[0]!.trim() || 'unknown decoder error';
}
