import { planResize, type Geometry, type ResizeMode, type ResizePlan } from './resize-plan.js';

export { planResize, type ResizePlan };
import type { I420Layout } from './i420-layout.js';
import { BU, checkI420, CLAMP, CLAMP_OFFSET, GU, GV, RV } from './i420-rgb.js';

/** Per destination column (or row): the two luma taps, the weight of the second (0..256), the chroma sample. */
export interface Taps {
  a: Int32Array;
  b: Int32Array;
  f: Int32Array;
  c: Int32Array;
}

/** Pixel centres aligned (like libvips): destination i samples source start + (i + 0.5) * srcLen / dstLen - 0.5. */
export function taps(start: number, srcLen: number, dstLen: number, chromaLen: number): Taps {
  const t: Taps = { a: new Int32Array(dstLen), b: new Int32Array(dstLen), f: new Int32Array(dstLen), c: new Int32Array(dstLen) };
  const scale = srcLen / dstLen;
  const last = start + srcLen - 1;
  for (let i = 0; i < dstLen; i++) {
    const centre = start + (i + 0.5) * scale;
    const s = Math.min(last, Math.max(start, centre - 0.5));
    const a = Math.floor(s);
    t.a[i] = a;
    t.b[i] = Math.min(a + 1, last);
    t.f[i] = Math.round((s - a) * 256);
    t.c[i] = Math.min(chromaLen - 1, Math.floor(centre / 2));
  }
  return t;
}

/**
 * Converts I420 straight to packed RGB at the model's input size in one pass: bilinear luma, nearest chroma (the
 * chroma planes are already about the model's resolution at 640x480 -> 300x300, and colour matters less than edges
 * to a detector). The tap tables are built once per size, so a frame costs no allocation.
 */
export class I420Resizer {
  readonly plan: ResizePlan;
  /** Per destination column, packed for one pass over a row: first luma tap, second, weight of the second, chroma. */
  private readonly cols: Int32Array;
  private readonly rows: Taps;

  constructor(
    readonly layout: I420Layout,
    readonly width: number,
    readonly height: number,
    readonly mode: ResizeMode,
    /** A rectangle of the frame to take instead of the whole frame (a motion region, a classifier's crop): stretched onto the output. */
    crop?: CropRect,
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new Error(`invalid output size ${width}x${height}`);
    this.plan = crop ? planCrop(layout.width, layout.height, crop, width, height) : planResize(layout.width, layout.height, width, height, mode);
    const { src, dst } = this.plan;
    const cols = taps(src.x, src.w, dst.w, Math.ceil(layout.width / 2));
    this.cols = new Int32Array(dst.w * 4);
    for (let i = 0; i < dst.w; i++) this.cols.set([cols.a[i]!, cols.b[i]!, cols.f[i]!, cols.c[i]!], i * 4);
    this.rows = taps(src.y, src.h, dst.h, Math.ceil(layout.height / 2));
  }

  /** Fills `out` (width*height*3 bytes), black bars included. */
  convert(src: Uint8Array, out: Uint8Array): void {
    checkI420(src, this.layout);
    const { width, height } = this;
    if (out.length < width * height * 3) throw new Error(`RGB buffer holds ${out.length} bytes, expected ${width * height * 3}`);
    const { yStride, uvStride, uOffset, vOffset } = this.layout;
    const { dst } = this.plan;
    const cols = this.cols;
    const colsEnd = dst.w * 4;
    const { a: ya, b: yb, f: yf, c: yc } = this.rows;
    const rowBytes = width * 3;
    // Bars (letterbox only): rows above and below, then the left and right ends of each picture row.
    out.fill(0, 0, dst.y * rowBytes);
    out.fill(0, (dst.y + dst.h) * rowBytes, height * rowBytes);
    for (let j = 0; j < dst.h; j++) {
      const r0 = ya[j]! * yStride;
      const r1 = yb[j]! * yStride;
      const fy = yf[j]!;
      const gy = 256 - fy;
      const crow = yc[j]! * uvStride;
      const ub = uOffset + crow;
      const vb = vOffset + crow;
      const rowStart = (dst.y + j) * rowBytes;
      out.fill(0, rowStart, rowStart + dst.x * 3);
      let o = rowStart + dst.x * 3;
      for (let k = 0; k < colsEnd; k += 4) {
        const x0 = cols[k]!;
        const x1 = cols[k + 1]!;
        const fx = cols[k + 2]!;
        const gx = 256 - fx;
        const top = src[r0 + x0]! * gx + src[r0 + x1]! * fx;
        const bottom = src[r1 + x0]! * gx + src[r1 + x1]! * fx;
        const Y = CLAMP_OFFSET + ((top * gy + bottom * fy + 32768) >> 16);
        const c = cols[k + 3]!;
        const u = src[ub + c]!;
        const v = src[vb + c]!;
        out[o] = CLAMP[Y + RV8[v]!]!;
        out[o + 1] = CLAMP[Y + ((GU[u]! + GV[v]! + 128) >> 8)]!;
        out[o + 2] = CLAMP[Y + BU8[u]!]!;
        o += 3;
      }
      out.fill(0, o, rowStart + rowBytes);
    }
  }
}

/** A rectangle of a frame in whole pixels. */
export interface CropRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The plan of a crop stretched onto the whole output; its geometry maps output coordinates back to the frame. */
export function planCrop(frameW: number, frameH: number, r: CropRect, width: number, height: number): ResizePlan {
  const ok = [r.x, r.y, r.w, r.h].every(Number.isInteger) && r.x >= 0 && r.y >= 0 && r.w > 0 && r.h > 0 && r.x + r.w <= frameW && r.y + r.h <= frameH;
  if (!ok) throw new Error(`crop ${r.w}x${r.h}+${r.x}+${r.y} does not lie within the ${frameW}x${frameH} frame`);
  return {
    src: { x: r.x, y: r.y, w: r.w, h: r.h },
    dst: { x: 0, y: 0, w: width, h: height },
    geometry: { ax: r.w / frameW, bx: r.x / frameW, ay: r.h / frameH, by: r.y / frameH },
  };
}

/**
 * A rectangle of an I420 frame -> packed RGB at dstW x dstH, in one pass (bilinear luma, nearest chroma, like the
 * whole-frame resize). The tap tables are built per call: regions move every frame, and a table is a few hundred
 * entries. The geometry maps model-input coordinates back to the whole frame.
 */
export function i420CropToRgb(
  src: Uint8Array,
  layout: I420Layout,
  rect: CropRect,
  dstW: number,
  dstH: number,
  out: Buffer = Buffer.allocUnsafe(dstW * dstH * 3),
): { data: Buffer; geometry: Geometry } {
  const resizer = new I420Resizer(layout, dstW, dstH, 'stretch', rect);
  resizer.convert(src, out);
  return { data: out, geometry: resizer.plan.geometry };
}

/** The red and blue chroma terms, already rounded to integers (one lookup a pixel instead of a lookup and a shift). */
const RV8 = Int32Array.from(RV, (x) => (x + 128) >> 8);
const BU8 = Int32Array.from(BU, (x) => (x + 128) >> 8);

const resizers = new Map<string, I420Resizer>();
const RESIZERS_KEPT = 8;

/**
 * I420 -> packed RGB at dstW x dstH with prepareInput's stretch / letterbox / crop semantics and Geometry, in one pass.
 * Pass `out` to reuse a buffer (no allocation per frame); tap tables are cached per layout and size.
 */
export function i420ToRgbResized(
  src: Uint8Array,
  layout: I420Layout,
  dstW: number,
  dstH: number,
  mode: ResizeMode,
  out: Buffer = Buffer.allocUnsafe(dstW * dstH * 3),
): { data: Buffer; geometry: Geometry } {
  const key = `${layout.width}x${layout.height}:${layout.yStride}:${layout.uvStride}:${layout.uOffset}:${layout.vOffset}>${dstW}x${dstH}:${mode}`;
  let resizer = resizers.get(key);
  if (!resizer) {
    if (resizers.size >= RESIZERS_KEPT) resizers.delete(resizers.keys().next().value as string);
    resizer = new I420Resizer(layout, dstW, dstH, mode);
    resizers.set(key, resizer);
  }
  resizer.convert(src, out);
  return { data: out, geometry: resizer.plan.geometry };
}
