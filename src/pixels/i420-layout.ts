/** How rpicam-vid pads I420 rows: Pi 0-4 (VideoCore ISP), Pi 5 (PiSP), or not at all (other producers). */
export type StrideRule = 'pi4' | 'pi5' | 'none';

/** Where the planes of one I420 frame are, in bytes. Chroma planes are ceil(width/2) x ceil(height/2). */
export interface I420Layout {
  width: number;
  height: number;
  yStride: number;
  uvStride: number;
  uOffset: number;
  vOffset: number;
  /** Bytes per frame on the wire, padding included. */
  frameSize: number;
}

const align = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * Measured on real Pis: Pi 0-4 round the Y stride up to 64 bytes and halve it for chroma; Pi 5 rounds the chroma
 * stride up to 64 and doubles it for Y. Rows only, never extra lines. Widths that are multiples of 128 have no padding.
 */
export function i420Layout(width: number, height: number, rule: StrideRule): I420Layout {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`invalid I420 size ${width}x${height}`);
  }
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  let yStride = width;
  let uvStride = cw;
  if (rule === 'pi4') {
    yStride = align(width, 64);
    uvStride = yStride / 2;
  } else if (rule === 'pi5') {
    uvStride = align(cw, 64);
    yStride = uvStride * 2;
  }
  const uOffset = yStride * height;
  const vOffset = uOffset + uvStride * ch;
  return { width, height, yStride, uvStride, uOffset, vOffset, frameSize: vOffset + uvStride * ch };
}
