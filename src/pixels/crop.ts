import type { I420Layout } from './i420-layout.js';
import { i420CropToRgb } from './i420-resize.js';
import { rgbResizePlanned } from './rgb-resize.js';

/** A rectangle of whole pixels in a frame. */
export interface PixelRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A box normalised to [0, 1] of the frame (the detector's boxes, mapped back to the frame). */
export interface NormBox {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/**
 * The square a classifier sees around a detection: the box grown by `margin` (a fraction of its longer side, on each
 * side), squared on its centre, moved inside the frame when it crosses an edge, and cut to the frame only when it is
 * larger than the frame's shorter side (then it is the largest rectangle the frame has there). Classifiers are
 * trained on centred, square pictures: a stretched crop would deform the object.
 */
export function squareCropRect(box: NormBox, frameW: number, frameH: number, margin: number): PixelRect {
  const x0 = box.xmin * frameW;
  const x1 = box.xmax * frameW;
  const y0 = box.ymin * frameH;
  const y1 = box.ymax * frameH;
  const side0 = Math.max(x1 - x0, y1 - y0, 1);
  const side = Math.round(side0 * (1 + 2 * margin));
  const w = Math.max(1, Math.min(frameW, side));
  const h = Math.max(1, Math.min(frameH, side));
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const x = Math.min(frameW - w, Math.max(0, Math.round(cx - w / 2)));
  const y = Math.min(frameH - h, Math.max(0, Math.round(cy - h / 2)));
  return { x, y, w, h };
}

function checkRect(r: PixelRect, w: number, h: number): void {
  if (!Number.isInteger(r.x) || !Number.isInteger(r.y) || !Number.isInteger(r.w) || !Number.isInteger(r.h) || r.w < 1 || r.h < 1 || r.x < 0 || r.y < 0 || r.x + r.w > w || r.y + r.h > h) {
    throw new Error(`crop ${r.w}x${r.h}+${r.x}+${r.y} is not inside the ${w}x${h} frame`);
  }
}

/**
 * Crops `rect` out of packed RGB and resizes it to outW x outH in one pass (bilinear, pixel centres aligned as in the
 * I420 resizer and libvips). Nothing of the frame outside the rectangle is read.
 */
export function cropResizeRgb(src: Uint8Array, width: number, height: number, rect: PixelRect, outW: number, outH: number, out: Uint8Array = new Uint8Array(outW * outH * 3)): Uint8Array {
  if (src.length < width * height * 3) throw new Error(`RGB frame holds ${src.length} bytes, expected ${width * height * 3} for ${width}x${height}`);
  checkRect(rect, width, height);
  if (out.length < outW * outH * 3) throw new Error(`RGB buffer holds ${out.length} bytes, expected ${outW * outH * 3}`);
  rgbResizePlanned(src, width, { src: rect, dst: { x: 0, y: 0, w: outW, h: outH } }, outW, outH, out);
  return out;
}

/**
 * Crops `rect` out of an I420 frame and converts and resizes it to packed RGB outW x outH in one pass (the same
 * bilinear-luma, nearest-chroma resizer the pipeline uses for the detector's input).
 */
export function cropResizeI420(src: Uint8Array, layout: I420Layout, rect: PixelRect, outW: number, outH: number, out: Uint8Array = new Uint8Array(outW * outH * 3)): Uint8Array {
  checkRect(rect, layout.width, layout.height);
  // The motion regions' crop: the same one-pass resizer over the rectangle.
  i420CropToRgb(src, layout, rect, outW, outH, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  return out;
}
