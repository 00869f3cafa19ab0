import { describe, expect, it } from 'vitest';
import { FrameBufferPool } from '../../src/camera/frame-buffer-pool.js';
import { i420CropToRgb, I420Resizer, i420ToRgbResized, type CropRect } from '../../src/pixels/i420-resize.js';
import { i420Layout, type StrideRule } from '../../src/pixels/i420-layout.js';
import { arenaOf, PixelArena, resizeKernelProblem } from '../../src/pixels/pixel-arena.js';
import type { ResizeMode } from '../../src/pixels/resize-plan.js';

/** Deterministic noise with smooth parts: every tap, weight and clamp of the resize gets exercised. */
function fill(buf: Uint8Array, seed: number): void {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < buf.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = i % 7 === 0 ? (x >>> 0) & 255 : (i * 3 + (x & 15)) & 255;
  }
}

/** A frame of the given layout inside an arena slot, and the same bytes in an ordinary buffer. */
function framePair(width: number, height: number, rule: StrideRule, seed: number) {
  const layout = i420Layout(width, height, rule);
  const arena = PixelArena.create(layout.frameSize, 2)!;
  const inArena = arena.take()!;
  fill(inArena, seed);
  const plain = Buffer.from(inArena);
  return { layout, arena, inArena, plain };
}

describe('the WebAssembly resize kernel', () => {
  it('is built and loads (npm run build, or the tests global setup, makes it)', () => {
    expect(resizeKernelProblem()).toBeUndefined();
  });

  const cases: [number, number, StrideRule, number, number, ResizeMode][] = [
    [640, 480, 'none', 128, 128, 'stretch'],
    [640, 480, 'none', 300, 300, 'letterbox'],
    [640, 480, 'pi4', 224, 224, 'crop'],
    [1920, 1080, 'pi5', 300, 300, 'stretch'],
    [1296, 972, 'pi4', 320, 320, 'letterbox'],
    [641, 479, 'pi5', 97, 33, 'stretch'], // odd sizes: a last odd row and column, a tail of 1 pixel
    [333, 211, 'none', 17, 15, 'letterbox'],
    [2, 2, 'none', 1, 1, 'stretch'],
    [5, 3, 'none', 31, 29, 'stretch'], // upscaling a tiny frame
    [96, 64, 'none', 640, 640, 'stretch'], // the largest output the arena resizes in place
  ];
  it.each(cases)('gives the JavaScript resize its exact bytes: %ix%i (%s) -> %ix%i %s', (w, h, rule, dw, dh, mode) => {
    const { layout, inArena, plain } = framePair(w, h, rule, w * 31 + dw);
    const resizer = new I420Resizer(layout, dw, dh, mode);
    const viaKernel = Buffer.alloc(dw * dh * 3, 0xaa);
    const viaJs = Buffer.alloc(dw * dh * 3, 0x55);
    resizer.convert(inArena, viaKernel);
    resizer.convertJs(plain, viaJs);
    expect(viaKernel.equals(viaJs)).toBe(true);
    // The frame outside an arena goes the JavaScript way, to the same bytes.
    const viaConvert = Buffer.alloc(dw * dh * 3, 0x11);
    resizer.convert(plain, viaConvert);
    expect(viaConvert.equals(viaJs)).toBe(true);
  });

  it('resizes crops of a frame in an arena like the JavaScript does, also after its table area filled up and started over', () => {
    const { layout, inArena, plain } = framePair(1280, 720, 'pi4', 7);
    // Each crop builds its own resizer and tables: 400 of them fill the 60 KB table area several times over.
    for (let i = 0; i < 400; i++) {
      const rect: CropRect = { x: (i * 37) % 900, y: (i * 53) % 400, w: 40 + ((i * 13) % 300), h: 30 + ((i * 7) % 300) };
      const size = 32 + (i % 5) * 32;
      const a = i420CropToRgb(inArena, layout, rect, size, size);
      const b = Buffer.alloc(size * size * 3);
      new I420Resizer(layout, size, size, 'stretch', rect).convertJs(plain, b);
      expect(a.data.equals(b), `crop ${i}`).toBe(true);
    }
  });

  it('leaves an output larger than its area to the JavaScript resize, with the same result', () => {
    const { layout, inArena, plain } = framePair(320, 240, 'none', 3);
    const viaArena = i420ToRgbResized(inArena, layout, 700, 700, 'stretch').data;
    const viaJs = i420ToRgbResized(plain, layout, 700, 700, 'stretch').data;
    expect(viaArena.equals(viaJs)).toBe(true);
  });

  it('refuses a frame shorter than its layout, in the arena too', () => {
    const { layout, inArena } = framePair(64, 48, 'none', 1);
    expect(() => new I420Resizer(layout, 16, 16, 'stretch').convert(inArena.subarray(0, 100), Buffer.alloc(16 * 16 * 3))).toThrow(/I420 frame holds 100 bytes, expected 4608/);
  });
});

describe('FrameBufferPool for I420 frames', () => {
  it('lends arena slots while it has them, then ordinary buffers; slots come back on release', () => {
    const size = i420Layout(64, 48, 'none').frameSize;
    const pool = new FrameBufferPool(size, 2, 'i420');
    const arena = pool.arena!;
    expect(arena.slots).toBe(2 + 5);
    const leases = Array.from({ length: 9 }, () => pool.acquire());
    expect(leases.filter((l) => arenaOf(l.data) === arena)).toHaveLength(7);
    expect(leases.every((l) => l.data.length === size)).toBe(true);
    // No two share memory: distinct slots in the arena, distinct memory outside it.
    expect(new Set(leases.filter((l) => arenaOf(l.data)).map((l) => l.data.byteOffset)).size).toBe(7);
    expect(new Set(leases.filter((l) => !arenaOf(l.data)).map((l) => l.data.buffer)).size).toBe(2);
    expect(arena.available).toBe(0);
    for (const l of leases) l.release();
    // Two kept by the pool for reuse, the other arena slots back in the arena, the ordinary buffers left to the GC.
    expect(arena.available).toBe(5);
    const again = Array.from({ length: 7 }, () => pool.acquire());
    expect(again.filter((l) => arenaOf(l.data) === arena)).toHaveLength(7);
  });

  it('an ordinary pool lends ordinary buffers', () => {
    const pool = new FrameBufferPool(100);
    expect(pool.arena).toBeUndefined();
    expect(arenaOf(pool.acquire().data)).toBeUndefined();
  });
});
