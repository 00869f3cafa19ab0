import { taps } from './i420-resize.js';
import { planResize, type Geometry, type ResizeMode, type ResizePlan } from './resize-plan.js';

/**
 * Largest downscale (per side) the one-pass bilinear resize takes: each output pixel reads the two nearest source
 * pixels per side, so beyond about 2.5x it would skip source pixels outright (aliasing); larger steps go to libvips.
 */
export const BILINEAR_MAX_SCALE = 2.5;

/** Whether rgbResized suits this resize (no more than BILINEAR_MAX_SCALE smaller per side), else use libvips. */
export function suitsBilinear(w: number, h: number, dstW: number, dstH: number, mode: ResizeMode): boolean {
  const { src, dst } = planResize(w, h, dstW, dstH, mode);
  return src.w / dst.w <= BILINEAR_MAX_SCALE && src.h / dst.h <= BILINEAR_MAX_SCALE;
}

/**
 * Packed RGB -> packed RGB at dstW x dstH with the stretch / letterbox / crop semantics of planResize, in one JS pass
 * (bilinear, bars black). For the small steps image files take after a decode scaled on load: libvips would cost
 * more in setting up its pipeline (~1.5 ms a call) than the resize itself (~0.1 ms at 256x128 -> 128x128).
 */
export function rgbResized(src: Uint8Array, w: number, h: number, dstW: number, dstH: number, mode: ResizeMode, out: Buffer = Buffer.allocUnsafe(dstW * dstH * 3)): { data: Buffer; geometry: Geometry } {
  if (src.length < w * h * 3) throw new Error(`frame holds ${src.length} bytes, expected ${w * h * 3} for ${w}x${h} RGB`);
  const plan = planResize(w, h, dstW, dstH, mode);
  rgbResizePlanned(src, w, plan, dstW, dstH, out);
  return { data: out, geometry: plan.geometry };
}

/**
 * The one pass itself: `plan.src` of the packed RGB frame (`w` pixels a row) onto `plan.dst` of the dstW x dstH
 * output, the rest of the output black. Also the classifiers' square crops (src: the crop, dst: the whole output).
 */
export function rgbResizePlanned(src: Uint8Array, w: number, plan: Pick<ResizePlan, 'src' | 'dst'>, dstW: number, dstH: number, out: Uint8Array): void {
  const { src: s, dst } = plan;
  const cols = taps(s.x, s.w, dst.w, 1);
  const rows = taps(s.y, s.h, dst.h, 1);
  const rowBytes = dstW * 3;
  const srcRow = w * 3;
  out.fill(0, 0, dst.y * rowBytes);
  out.fill(0, (dst.y + dst.h) * rowBytes, dstH * rowBytes);
  for (let j = 0; j < dst.h; j++) {
    const r0 = rows.a[j]! * srcRow;
    const r1 = rows.b[j]! * srcRow;
    const fy = rows.f[j]!;
    const gy = 256 - fy;
    const rowStart = (dst.y + j) * rowBytes;
    out.fill(0, rowStart, rowStart + dst.x * 3);
    let o = rowStart + dst.x * 3;
    for (let i = 0; i < dst.w; i++) {
      const x0 = cols.a[i]! * 3;
      const x1 = cols.b[i]! * 3;
      const fx = cols.f[i]!;
      const gx = 256 - fx;
      for (let c = 0; c < 3; c++) {
        const top = src[r0 + x0 + c]! * gx + src[r0 + x1 + c]! * fx;
        const bottom = src[r1 + x0 + c]! * gx + src[r1 + x1 + c]! * fx;
        out[o++] = (top * gy + bottom * fy + 32768) >> 16;
      }
    }
    out.fill(0, o, rowStart + rowBytes);
  }
}
