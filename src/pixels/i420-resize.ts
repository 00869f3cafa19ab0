import { planResize, type Geometry, type ResizeMode, type ResizePlan } from './resize-plan.js';

export { planResize, type ResizePlan };
import type { I420Layout } from './i420-layout.js';
import { BU, checkI420, GU, GV, RV } from './i420-rgb.js';
import { arenaOf } from './pixel-arena.js';

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
 * Converts I420 straight to packed RGB at the model's input size in one pass: bilinear luma, and chroma sampled once
 * per 2x2 block of output pixels, as in an I420 picture of the output's own size (and as in the 4:2:0 JPEGs the
 * models were trained on). At the frame's own size that is exactly i420ToRgb. Sharing the chroma terms between four
 * pixels halves the cost of the pass (0.22 -> 0.12 ms for 640x480 -> 128x128, measured), which on a Coral is most
 * of the daemon's own work per frame. The tap tables are built once per size, so a frame costs no allocation.
 */
export class I420Resizer {
  readonly plan: ResizePlan;
  /** Per destination column: first luma tap << 9 | weight of the next column (0..256; 0 at the right edge). */
  private readonly cols: Int32Array;
  /** Per pair of destination columns (and a last odd one): the chroma column at the pair's centre. */
  private readonly colChroma: Int32Array;
  private readonly rows: Taps;
  /** Per pair of destination rows (and a last odd one): the chroma row at the pair's centre. */
  private readonly rowChroma: Int32Array;

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
    const chromaW = Math.ceil(layout.width / 2);
    const chromaH = Math.ceil(layout.height / 2);
    const cols = taps(src.x, src.w, dst.w, chromaW);
    this.cols = new Int32Array(dst.w);
    // The second tap is always the next column: where taps() clamped it at the edge, its weight is 0. (Reading one
    // byte past a row's last pixel stays inside the frame: the next row, or the chroma planes after the last.)
    for (let i = 0; i < dst.w; i++) this.cols[i] = (cols.a[i]! << 9) | (cols.b[i] === cols.a[i] ? 0 : cols.f[i]!);
    this.colChroma = blockChroma(src.x, src.w, dst.w, chromaW, cols.c);
    this.rows = taps(src.y, src.h, dst.h, chromaH);
    this.rowChroma = blockChroma(src.y, src.h, dst.h, chromaH, this.rows.c);
  }

  /** The tap tables in the order the WebAssembly kernel reads them (pixel-arena.ts). */
  kernelTables(): readonly Int32Array[] {
    return [this.cols, this.colChroma, this.rows.a, this.rows.b, this.rows.f, this.rowChroma];
  }

  /**
   * Fills `out` (width*height*3 bytes), black bars included: with the WebAssembly kernel when the frame lies in a
   * PixelArena (a camera's pooled frame), else here in JavaScript. Both give the same bytes.
   */
  convert(src: Uint8Array, out: Uint8Array): void {
    checkI420(src, this.layout);
    const { width, height } = this;
    if (out.length < width * height * 3) throw new Error(`RGB buffer holds ${out.length} bytes, expected ${width * height * 3}`);
    if (arenaOf(src)?.convert(this, src, out)) return;
    this.convertJs(src, out);
  }

  /** The JavaScript resize (frames outside an arena, and the reference the kernel is tested against). */
  convertJs(src: Uint8Array, out: Uint8Array): void {
    const { width, height } = this;
    const { yStride, uvStride, uOffset, vOffset } = this.layout;
    const { dst } = this.plan;
    const cols = this.cols;
    const colChroma = this.colChroma;
    const { a: ya, b: yb, f: yf } = this.rows;
    const rowChroma = this.rowChroma;
    const rowBytes = width * 3;
    // Stores through a clamped view limit Y + chroma to 0..255 themselves: no clamp table lookup per channel.
    const px = new Uint8ClampedArray(out.buffer, out.byteOffset, out.byteLength);
    const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    // Bars (letterbox only): rows above and below, then the left and right ends of each picture row.
    out.fill(0, 0, dst.y * rowBytes);
    out.fill(0, (dst.y + dst.h) * rowBytes, height * rowBytes);
    for (let j = 0; j < dst.h; j += 2) {
      // Two output rows share each chroma sample; a last odd row has its own (then "both" rows are that row).
      const two = j + 1 < dst.h;
      const k2 = two ? j + 1 : j;
      const a0 = ya[j]! * yStride;
      const a1 = yb[j]! * yStride;
      const fa = yf[j]!;
      const ga = 256 - fa;
      const b0 = ya[k2]! * yStride;
      const b1 = yb[k2]! * yStride;
      const fb = yf[k2]!;
      const gb = 256 - fb;
      const crow = rowChroma[j >> 1]! * uvStride;
      const ub = uOffset + crow;
      const vb = vOffset + crow;
      const startA = (dst.y + j) * rowBytes;
      const startB = startA + rowBytes;
      out.fill(0, startA, startA + dst.x * 3);
      if (two) out.fill(0, startB, startB + dst.x * 3);
      let o = startA + dst.x * 3;
      // A last odd row is computed twice into the first row's place (the second write lands on the first).
      let oB = two ? o + rowBytes : o;
      for (let k = 0; k < dst.w; k += 2) {
        const c = colChroma[k >> 1]!;
        const u = src[ub + c]!;
        const v = src[vb + c]!;
        const cr = RV8[v]!;
        const cg = (GU[u]! + GV[v]! + 128) >> 8;
        const cb = BU8[u]!;
        // The pair's two pixels (one only at an odd right edge), each on both rows.
        const t0 = cols[k]!;
        let Y = luma(view, a0, a1, ga, fa, t0);
        px[o] = Y + cr;
        px[o + 1] = Y + cg;
        px[o + 2] = Y + cb;
        Y = luma(view, b0, b1, gb, fb, t0);
        px[oB] = Y + cr;
        px[oB + 1] = Y + cg;
        px[oB + 2] = Y + cb;
        if (k + 1 < dst.w) {
          const t1 = cols[k + 1]!;
          Y = luma(view, a0, a1, ga, fa, t1);
          px[o + 3] = Y + cr;
          px[o + 4] = Y + cg;
          px[o + 5] = Y + cb;
          Y = luma(view, b0, b1, gb, fb, t1);
          px[oB + 3] = Y + cr;
          px[oB + 4] = Y + cg;
          px[oB + 5] = Y + cb;
          o += 6;
          oB += 6;
        } else {
          o += 3;
          oB += 3;
        }
      }
      out.fill(0, o, startA + rowBytes);
      if (two) out.fill(0, oB, startB + rowBytes);
    }
  }
}

/**
 * Bilinear luma at a column tap (x << 9 | weight of x + 1) between rows r0 and r1 (weights g, f out of 256). Each row's
 * two neighbours come in one 16-bit read (DataView reads unaligned), two loads a pixel instead of four.
 */
function luma(src: DataView, r0: number, r1: number, g: number, f: number, tap: number): number {
  const x = tap >> 9;
  const fx = tap & 511;
  const gx = 256 - fx;
  const p = src.getUint16(r0 + x, true);
  const q = src.getUint16(r1 + x, true);
  return (((p & 255) * gx + (p >> 8) * fx) * g + ((q & 255) * gx + (q >> 8) * fx) * f + 32768) >> 16;
}

/**
 * The chroma sample of each pair of destination columns (or rows): the one under the pair's centre, where its two
 * pixels meet; a last odd one keeps its own (`own`, from taps()).
 */
function blockChroma(start: number, srcLen: number, dstLen: number, chromaLen: number, own: Int32Array): Int32Array {
  const scale = srcLen / dstLen;
  const out = new Int32Array(Math.ceil(dstLen / 2));
  for (let p = 0; p < out.length; p++) {
    out[p] = 2 * p + 1 < dstLen ? Math.min(chromaLen - 1, Math.floor((start + (2 * p + 1) * scale) / 2)) : own[2 * p]!;
  }
  return out;
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
 * A rectangle of an I420 frame -> packed RGB at dstW x dstH, in one pass (I420Resizer on that rectangle, as the
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

/** Resizers by layout (a camera keeps one layout object for all its frames), then by output size and mode. */
const resizers = new WeakMap<I420Layout, Map<string, I420Resizer>>();
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
  let bySize = resizers.get(layout);
  if (!bySize) resizers.set(layout, (bySize = new Map()));
  const key = `${dstW}x${dstH}:${mode}`;
  let resizer = bySize.get(key);
  if (!resizer) {
    if (bySize.size >= RESIZERS_KEPT) bySize.delete(bySize.keys().next().value as string);
    resizer = new I420Resizer(layout, dstW, dstH, mode);
    bySize.set(key, resizer);
  }
  resizer.convert(src, out);
  return { data: out, geometry: resizer.plan.geometry };
}
