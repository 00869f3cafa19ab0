/** A decoded still picture: tightly packed RGB, 3 bytes a pixel, row after row. */
export interface DecodedImage {
  width: number;
  height: number;
  data: Buffer;
  /** The picture's own size (EXIF orientation applied), when it was decoded smaller. */
  fullSize?: { width: number; height: number };
}

/**
 * The most pixels an image may have to be decoded at all, checked from its header before any pixel is decoded.
 * A PNG of one colour compresses 16000x16000 pixels into under 1 MB, and decoding it took a files camera to 850 MB
 * RSS (the daemon to 2.4 GB). 50 MP passes every camera and phone picture a detector is fed: the Pi HQ camera's
 * 12.3 MP and Camera Module 3's 11.9 MP stills, 4K (8.3 MP) and 8K (33.2 MP) frames, a 50 MP phone's full-size
 * 8160x6120; decoded to RGB that is at most 150 MB, which a 2 GB Pi survives.
 */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * Any failure to turn bytes into pixels. The message always names the file or input, and carries only
 * the decoder's one-line reason (never a libvips stack), so it can go straight into a log line or a `skipped` report.
 */
export class ImageDecodeError extends Error {
  override readonly name: string = 'ImageDecodeError';

  constructor(
    readonly origin: string,
    readonly reason: string,
  ) {
    super(`cannot decode ${origin}: ${reason}`);
  }
}

/** Refused from its header: decoding it could exhaust memory (a decompression bomb, or just a huge picture). */
export class ImageTooLargeError extends ImageDecodeError {
  override readonly name = 'ImageTooLargeError';

  constructor(
    origin: string,
    readonly width: number,
    readonly height: number,
    readonly maxPixels: number,
  ) {
    super(origin, `image too large: ${width}x${height} (${megapixels(width * height)} MP) is over the ${megapixels(maxPixels)} MP limit; not decoded`);
  }
}

function megapixels(pixels: number): string {
  return String(Math.round(pixels / 100_000) / 10);
}
