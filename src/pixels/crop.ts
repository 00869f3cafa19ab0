import type { I420Layout } from './i420-layout.js';
import { i420CropToRgb } from './i420-resize.js';

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
  const cx = axis(rect.x, rect.w, outW);
  const cy = axis(rect.y, rect.h, outH);
  const stride = width * 3;
  let o = 0;
  for (let j = 0; j < outH; j++) {
    const r0 = cy.a[j]! * stride;
    const r1 = cy.b[j]! * stride;
    const fy = cy.f[j]!;
    const gy = 256 - fy;
    for (let i = 0; i < outW; i++) {
      const x0 = cx.a[i]! * 3;
      const x1 = cx.b[i]! * 3;
      const fx = cx.f[i]!;
      const gx = 256 - fx;
      for (let c = 0; c < 3; c++) {
        const top = src[r0 + x0 + c]! * gx + src[r0 + x1 + c]! * fx;
        const bottom = src[r1 + x0 + c]! * gx + src[r1 + x1 + c]! * fx;
        out[o++] = (top * gy + bottom * fy + 32768) >> 16;
      }
    }
  }
  return out;
}

/** Source taps of one axis: destination i samples start + (i + 0.5) * len / outLen - 0.5, within [start, start+len). */
function axis(start: number, len: number, outLen: number): { a: Int32Array; b: Int32Array; f: Int32Array } {
  const a = new Int32Array(outLen);
  const b = new Int32Array(outLen);
  const f = new Int32Array(outLen);
  const scale = len / outLen;
  const last = start + len - 1;
  for (let i = 0; i < outLen; i++) {
    const s = Math.min(last, Math.max(start, start + (i + 0.5) * scale - 0.5));
    const lo = Math.floor(s);
    a[i] = lo;
    b[i] = Math.min(lo + 1, last);
    f[i] = Math.round((s - lo) * 256);
  }
  return { a, b, f };
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
