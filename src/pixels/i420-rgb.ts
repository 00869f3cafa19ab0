import type { I420Layout } from './i420-layout.js';

/*
 * Full-range BT.601 (what rpicam-vid writes; JPEG uses it too): Y, U and V all span 0..255, so Y=235 stays 235.
 *   R = Y + 1.402 (V-128)   G = Y - 0.344136 (U-128) - 0.714136 (V-128)   B = Y + 1.772 (U-128)
 * The chroma terms come from tables in 8.8 fixed point, and a clamp table turns the sum into 0..255 without branches.
 */
const FIX = 256;
const HALF = FIX / 2;
/** Chroma terms, fixed point. */
export const RV = new Int32Array(256);
export const GU = new Int32Array(256);
export const GV = new Int32Array(256);
export const BU = new Int32Array(256);
for (let c = 0; c < 256; c++) {
  RV[c] = Math.round(1.402 * (c - 128) * FIX);
  GU[c] = Math.round(-0.344136 * (c - 128) * FIX);
  GV[c] = Math.round(-0.714136 * (c - 128) * FIX);
  BU[c] = Math.round(1.772 * (c - 128) * FIX);
}
/** CLAMP[CLAMP_OFFSET + n] = n limited to 0..255, for n from -512 to 511 (Y + chroma term stays within -227..482). */
export const CLAMP_OFFSET = 512;
export const CLAMP = new Uint8Array(1024);
for (let i = 0; i < CLAMP.length; i++) CLAMP[i] = Math.min(255, Math.max(0, i - CLAMP_OFFSET));

/** The rounded chroma offsets of one U, V pair, as integers. */
export const chromaR = (v: number): number => (RV[v]! + HALF) >> 8;
export const chromaG = (u: number, v: number): number => (GU[u]! + GV[v]! + HALF) >> 8;
export const chromaB = (u: number): number => (BU[u]! + HALF) >> 8;

export function checkI420(src: Uint8Array, l: I420Layout): void {
  if (src.length < l.frameSize) throw new Error(`I420 frame holds ${src.length} bytes, expected ${l.frameSize} for ${l.width}x${l.height}`);
}

/**
 * I420 (padded rows allowed) -> packed RGB at the same size, into `out` (width*height*3 bytes, reused by the caller).
 * Each chroma sample covers a 2x2 block: its three terms are computed once and applied to the block's four pixels.
 * The loop is unrolled by hand: it is the hottest code of a Pi camera, and V8 does not unroll it for us.
 */
export function i420ToRgb(src: Uint8Array, l: I420Layout, out: Uint8Array): void {
  checkI420(src, l);
  const { width: w, height: h, yStride, uvStride, uOffset, vOffset } = l;
  if (out.length < w * h * 3) throw new Error(`RGB buffer holds ${out.length} bytes, expected ${w * h * 3}`);
  const pairs = w >> 1;
  const rowBytes = w * 3;
  const fullRows = h & ~1;
  for (let y = 0; y < fullRows; y += 2) {
    let ya = y * yStride;
    let yb = ya + yStride;
    let oa = y * rowBytes;
    let ob = oa + rowBytes;
    const ci = (y >> 1) * uvStride;
    let ui = uOffset + ci;
    let vi = vOffset + ci;
    for (let p = 0; p < pairs; p++) {
      const u = src[ui++]!;
      const v = src[vi++]!;
      const r = CLAMP_OFFSET + ((RV[v]! + HALF) >> 8);
      const g = CLAMP_OFFSET + ((GU[u]! + GV[v]! + HALF) >> 8);
      const b = CLAMP_OFFSET + ((BU[u]! + HALF) >> 8);
      let Y = src[ya++]!;
      out[oa++] = CLAMP[Y + r]!;
      out[oa++] = CLAMP[Y + g]!;
      out[oa++] = CLAMP[Y + b]!;
      Y = src[ya++]!;
      out[oa++] = CLAMP[Y + r]!;
      out[oa++] = CLAMP[Y + g]!;
      out[oa++] = CLAMP[Y + b]!;
      Y = src[yb++]!;
      out[ob++] = CLAMP[Y + r]!;
      out[ob++] = CLAMP[Y + g]!;
      out[ob++] = CLAMP[Y + b]!;
      Y = src[yb++]!;
      out[ob++] = CLAMP[Y + r]!;
      out[ob++] = CLAMP[Y + g]!;
      out[ob++] = CLAMP[Y + b]!;
    }
  }
  if (w & 1) for (let y = 0; y < fullRows; y++) pixel(src, l, pairs * 2, y, out);
  // An odd height leaves a last row with chroma of its own.
  if (h & 1) for (let x = 0; x < w; x++) pixel(src, l, x, h - 1, out);
}

/** One pixel, for the odd edges only. */
function pixel(src: Uint8Array, l: I420Layout, x: number, y: number, out: Uint8Array): void {
  const ci = (y >> 1) * l.uvStride + (x >> 1);
  const u = src[l.uOffset + ci]!;
  const v = src[l.vOffset + ci]!;
  const Y = CLAMP_OFFSET + src[y * l.yStride + x]!;
  const o = (y * l.width + x) * 3;
  out[o] = CLAMP[Y + chromaR(v)]!;
  out[o + 1] = CLAMP[Y + chromaG(u, v)]!;
  out[o + 2] = CLAMP[Y + chromaB(u)]!;
}
