/** A decoded still picture: tightly packed RGB, 3 bytes a pixel, row after row. */
export interface DecodedImage {
  width: number;
  height: number;
  data: Buffer;
}

/**
 * Any failure to turn bytes into pixels. The message always names the file or input, and carries only
 * the decoder's one-line reason (never a libvips stack), so it can go straight into a log line or a `skipped` report.
 */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';

  constructor(
    readonly origin: string,
    readonly reason: string,
  ) {
    super(`cannot decode ${origin}: ${reason}`);
  }
}
