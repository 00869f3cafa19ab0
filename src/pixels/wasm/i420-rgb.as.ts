// AssemblyScript (compiled to WebAssembly by `npm run build:wasm`, not by tsc): the I420 -> packed RGB resize of
// i420-resize.ts, with the same arithmetic and so the same bytes, 2-3x faster with 128-bit SIMD (measured in
// docs/performance.md). The frame, the tables and the output all lie in one memory that JavaScript owns
// (pixel-arena.ts): every argument is a byte offset or a number. Nothing here allocates.
//
// Luma is bilinear. Vertical first, for a whole source row at a time with SIMD: V[x] = row0[x] * g + row1[x] * f
// (u16: 255 * 256 fits), then per output pixel Y = (V[x] * (256 - fx) + V[x + 1] * fx + 32768) >> 16, which is the
// JavaScript's single rounding of the same products, eight output pixels at a time in i32 lanes (each pair V[x],
// V[x + 1] one 32-bit load: 640 -> 128 takes 48 us instead of 62 with one pixel at a time). Chroma is sampled once per 2x2 block of output pixels, and R,
// G, B are made 16 pixels at a time with saturating narrows (the clamp) and shuffles (the interleave).

// Tables, per the caller's I420Resizer (Int32 each): cols[dw] (x << 9 | weight of x + 1), colChroma[ceil(dw / 2)],
// rowA[dh], rowB[dh], rowF[dh] (the two source rows and the second's weight), rowChroma[ceil(dh / 2)].
// LUTs at `lut` (Int32 x 256 each): the red and blue chroma terms (rounded), the green terms of U and of V (x 256).

/** Blends source rows r0 and r1 (weights g and f of 256) into u16 at dst, for columns x0 .. x1 (eight at a time). */
@inline function vertical(r0: usize, r1: usize, g: i32, f: i32, x0: i32, x1: i32, dst: usize): void {
  const G = i16x8.splat(<i16>g);
  const F = i16x8.splat(<i16>f);
  for (let x = x0; x < x1; x += 8) {
    const a = v128.load_ext<u8>(r0 + <usize>x);
    const b = v128.load_ext<u8>(r1 + <usize>x);
    v128.store(dst + (<usize>x << 1), i16x8.add(i16x8.mul(a, G), i16x8.mul(b, F)));
  }
}

/** The output luma at a column tap, from a blended row: its two neighbours come in one 32-bit load. */
@inline function horizontal(row: usize, tap: i32): u8 {
  const x = <usize>(tap >> 9);
  const fx = <u32>(tap & 511);
  const w = load<u32>(row + (x << 1));
  return <u8>(((w & 0xffff) * (256 - fx) + (w >> 16) * fx + 32768) >> 16);
}

const TAP_WEIGHT = i32x4.splat(511);
const W256 = i32x4.splat(256);
const LOW16 = i32x4.splat(0xffff);
const HALF = i32x4.splat(32768);

/** Four output lumas (i32 each) from a blended row: the pairs at byte offsets `o`, weights g (of x) and f (of x + 1). */
@inline function horizontal4(row: usize, o: v128, f: v128, g: v128): v128 {
  let w = i32x4.splat(load<i32>(row + <usize>i32x4.extract_lane(o, 0)));
  w = i32x4.replace_lane(w, 1, load<i32>(row + <usize>i32x4.extract_lane(o, 1)));
  w = i32x4.replace_lane(w, 2, load<i32>(row + <usize>i32x4.extract_lane(o, 2)));
  w = i32x4.replace_lane(w, 3, load<i32>(row + <usize>i32x4.extract_lane(o, 3)));
  // horizontal()'s arithmetic lane by lane: (lo * (256 - fx) + hi * fx + 32768) >> 16, at most 255.
  const sum = i32x4.add(i32x4.add(i32x4.mul(v128.and(w, LOW16), g), i32x4.mul(i32x4.shr_u(w, 16), f)), HALF);
  return i32x4.shr_u(sum, 16);
}

/** Eight output lumas as eight bytes (the low half of the vector), for the taps at offsets oa, ob. */
@inline function horizontal8(row: usize, oa: v128, ob: v128, fa: v128, fb: v128, ga: v128, gb: v128): u64 {
  const w16 = i16x8.narrow_i32x4_s(horizontal4(row, oa, fa, ga), horizontal4(row, ob, fb, gb));
  return i64x2.extract_lane(i8x16.narrow_i16x8_u(w16, w16), 0);
}

/** 16 pixels: luma (u8 x 16) plus their chroma terms (i16 x 16 each at cr, cg, cb) -> 48 bytes of packed RGB at o. */
@inline function rgb16(y: v128, cr: usize, cg: usize, cb: usize, o: usize): void {
  const cr0 = v128.load(cr);
  const cr1 = v128.load(cr + 16);
  const cg0 = v128.load(cg);
  const cg1 = v128.load(cg + 16);
  const cb0 = v128.load(cb);
  const cb1 = v128.load(cb + 16);
  const y0 = i16x8.extend_low_i8x16_u(y);
  const y1 = i16x8.extend_high_i8x16_u(y);
  const R = i8x16.narrow_i16x8_u(i16x8.add(y0, cr0), i16x8.add(y1, cr1));
  const G = i8x16.narrow_i16x8_u(i16x8.add(y0, cg0), i16x8.add(y1, cg1));
  const B = i8x16.narrow_i16x8_u(i16x8.add(y0, cb0), i16x8.add(y1, cb1));
  // R0 G0 B0 R1 G1 B1 R2 G2 B2 R3 G3 B3 R4 G4 B4 R5: R and G first (B's places hold anything), then B.
  const rg0 = i8x16.shuffle(R, G, 0, 16, 0, 1, 17, 1, 2, 18, 2, 3, 19, 3, 4, 20, 4, 5);
  v128.store(o, i8x16.shuffle(rg0, B, 0, 1, 16, 3, 4, 17, 6, 7, 18, 9, 10, 19, 12, 13, 20, 15));
  // G5 B5 R6 G6 B6 R7 G7 B7 R8 G8 B8 R9 G9 B9 R10 G10
  const rg1 = i8x16.shuffle(R, G, 21, 5, 6, 22, 6, 7, 23, 7, 8, 24, 8, 9, 25, 9, 10, 26);
  v128.store(o + 16, i8x16.shuffle(rg1, B, 0, 21, 2, 3, 22, 5, 6, 23, 8, 9, 24, 11, 12, 25, 14, 15));
  // B10 R11 G11 B11 R12 G12 B12 R13 G13 B13 R14 G14 B14 R15 G15 B15
  const rg2 = i8x16.shuffle(R, G, 10, 11, 27, 11, 12, 28, 12, 13, 29, 13, 14, 30, 14, 15, 31, 15);
  v128.store(o + 32, i8x16.shuffle(rg2, B, 26, 1, 2, 27, 4, 5, 28, 7, 8, 29, 10, 11, 30, 13, 14, 31));
}

/** Bytes of scratch convert() needs (the caller checks it fits): blended rows, luma rows, chroma terms, a tail block. */
export function scratchBytes(srcEnd: i32, dw: i32): i32 {
  const dwp = (dw + 15) & ~15;
  return 2 * ((srcEnd + 16) << 1) + 2 * dwp + 3 * (dwp << 1) + 48;
}

/**
 * Fills the destination rectangle (dx, dy, dw, dh) of a packed RGB picture `width` pixels wide at `out` from the I420
 * frame at `src` (planes at 0, uOff and vOff, strides yStride and uvStride), reading source columns sx0 .. sx1 - 1.
 * Pixels outside the rectangle (letterbox bars) are not touched.
 */
export function convert(
  src: usize, yStride: i32, uvStride: i32, uOff: i32, vOff: i32,
  tab: usize, lut: usize,
  dx: i32, dy: i32, dw: i32, dh: i32, out: usize, width: i32,
  sx0: i32, sx1: i32, scratch: usize,
): void {
  const rowBytes = width * 3;
  const cols = tab;
  const colChroma = cols + (<usize>dw << 2);
  const rowA = colChroma + (<usize>((dw + 1) >> 1) << 2);
  const rowB = rowA + (<usize>dh << 2);
  const rowF = rowB + (<usize>dh << 2);
  const rowChroma = rowF + (<usize>dh << 2);
  const RV = lut;
  const BU = lut + 1024;
  const GU = lut + 2048;
  const GV = lut + 3072;
  const dwp = (dw + 15) & ~15;
  const VA = scratch;
  const VB = VA + (<usize>(sx1 + 16) << 1);
  const YA = VB + (<usize>(sx1 + 16) << 1);
  const YB = YA + <usize>dwp;
  const CR = YB + <usize>dwp;
  const CG = CR + (<usize>dwp << 1);
  const CB = CG + (<usize>dwp << 1);
  const TAIL = CB + (<usize>dwp << 1);
  // Blended columns from the 8-aligned start through sx1 (the second tap of the last column may read there).
  const xs = sx0 & ~7;
  const xe = sx1 + 1;
  const full = dw & ~15;
  for (let j = 0; j < dh; j += 2) {
    // Two output rows share each chroma sample; a last odd row has its own (then "both" rows are that row).
    const two = j + 1 < dh;
    const k2 = two ? j + 1 : j;
    const fa = load<i32>(rowF + (<usize>j << 2));
    vertical(src + <usize>(load<i32>(rowA + (<usize>j << 2)) * yStride), src + <usize>(load<i32>(rowB + (<usize>j << 2)) * yStride), 256 - fa, fa, xs, xe, VA);
    if (two) {
      const fb = load<i32>(rowF + (<usize>k2 << 2));
      vertical(src + <usize>(load<i32>(rowA + (<usize>k2 << 2)) * yStride), src + <usize>(load<i32>(rowB + (<usize>k2 << 2)) * yStride), 256 - fb, fb, xs, xe, VB);
    }
    // Eight output pixels at a time (the taps' weights and offsets shared by both rows), the last dw % 8 one by one.
    const eights = dw & ~7;
    for (let k = 0; k < eights; k += 8) {
      const ta = v128.load(cols + (<usize>k << 2));
      const tb = v128.load(cols + (<usize>k << 2) + 16);
      const fa = v128.and(ta, TAP_WEIGHT);
      const fb = v128.and(tb, TAP_WEIGHT);
      const ga = i32x4.sub(W256, fa);
      const gb = i32x4.sub(W256, fb);
      const oa = i32x4.shl(i32x4.shr_u(ta, 9), 1);
      const ob = i32x4.shl(i32x4.shr_u(tb, 9), 1);
      store<u64>(YA + <usize>k, horizontal8(VA, oa, ob, fa, fb, ga, gb));
      if (two) store<u64>(YB + <usize>k, horizontal8(VB, oa, ob, fa, fb, ga, gb));
    }
    for (let k = eights; k < dw; k++) {
      const tap = load<i32>(cols + (<usize>k << 2));
      store<u8>(YA + <usize>k, horizontal(VA, tap));
      if (two) store<u8>(YB + <usize>k, horizontal(VB, tap));
    }
    const crow = load<i32>(rowChroma + (<usize>(j >> 1) << 2)) * uvStride;
    const ub = src + <usize>(uOff + crow);
    const vb = src + <usize>(vOff + crow);
    for (let k = 0; k < dw; k += 2) {
      const c = <usize>load<i32>(colChroma + (<usize>(k >> 1) << 2));
      const u = <usize>load<u8>(ub + c);
      const v = <usize>load<u8>(vb + c);
      const cr = load<i32>(RV + (v << 2));
      const cg = (load<i32>(GU + (u << 2)) + load<i32>(GV + (v << 2)) + 128) >> 8;
      const cb = load<i32>(BU + (u << 2));
      // The pair's two pixels share the terms: one i16 each, written as one 32-bit word.
      const p = <usize>k << 1;
      store<u32>(CR + p, (<u32>cr & 0xffff) * 0x10001);
      store<u32>(CG + p, (<u32>cg & 0xffff) * 0x10001);
      store<u32>(CB + p, (<u32>cb & 0xffff) * 0x10001);
    }
    const oA = out + <usize>((dy + j) * rowBytes + dx * 3);
    const oB = oA + <usize>rowBytes;
    for (let k = 0; k < full; k += 16) {
      const p = <usize>k << 1;
      const o = <usize>(k * 3);
      rgb16(v128.load(YA + <usize>k), CR + p, CG + p, CB + p, oA + o);
      if (two) rgb16(v128.load(YB + <usize>k), CR + p, CG + p, CB + p, oB + o);
    }
    if (full < dw) {
      // The last dw % 16 pixels go through a block of their own and are copied: nothing is written past the row.
      const p = <usize>full << 1;
      const n = <usize>((dw - full) * 3);
      rgb16(v128.load(YA + <usize>full), CR + p, CG + p, CB + p, TAIL);
      memory.copy(oA + <usize>(full * 3), TAIL, n);
      if (two) {
        rgb16(v128.load(YB + <usize>full), CR + p, CG + p, CB + p, TAIL);
        memory.copy(oB + <usize>(full * 3), TAIL, n);
      }
    }
  }
}
