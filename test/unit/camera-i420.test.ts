import { describe, expect, it } from 'vitest';
import { i420Layout, type I420Layout, type StrideRule } from '../../src/pixels/i420-layout.js';
import { strideRuleForModel } from '../../src/camera/board-model.js';
import { i420ToRgbResized, planResize } from '../../src/pixels/i420-resize.js';
import { i420ToRgb } from '../../src/pixels/i420-rgb.js';
import { prepareInput } from '../../src/inference/preprocess.js';
import type { ResizeMode } from '../../src/pixels/resize-plan.js';

type Plane = (x: number, y: number) => number;

/** An I420 frame laid out by `rule`, padding filled with 0xAA so a reader that ignores the stride shows it. */
function makeI420(l: I420Layout, fy: Plane, fu: Plane, fv: Plane): Buffer {
  const buf = Buffer.alloc(l.frameSize, 0xaa);
  const cw = Math.ceil(l.width / 2);
  const ch = Math.ceil(l.height / 2);
  for (let y = 0; y < l.height; y++) for (let x = 0; x < l.width; x++) buf[y * l.yStride + x] = fy(x, y);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      buf[l.uOffset + y * l.uvStride + x] = fu(x, y);
      buf[l.vOffset + y * l.uvStride + x] = fv(x, y);
    }
  }
  return buf;
}

/** Full-range BT.601 in floating point: what the table-driven converter must match within 1. */
function reference(y: number, u: number, v: number): [number, number, number] {
  const c = (n: number): number => Math.min(255, Math.max(0, Math.round(n)));
  return [c(y + 1.402 * (v - 128)), c(y - 0.344136 * (u - 128) - 0.714136 * (v - 128)), c(y + 1.772 * (u - 128))];
}

const pattern = {
  y: (x: number, y: number) => (x * 7 + y * 13) & 255,
  u: (x: number, y: number) => (x * 29 + y * 3 + 40) & 255,
  v: (x: number, y: number) => (x * 5 + y * 31 + 90) & 255,
};

function expectPixelsMatch(l: I420Layout, rgb: Buffer, fy: Plane, fu: Plane, fv: Plane): void {
  let worst = 0;
  for (let y = 0; y < l.height; y++) {
    for (let x = 0; x < l.width; x++) {
      const want = reference(fy(x, y), fu(x >> 1, y >> 1), fv(x >> 1, y >> 1));
      const o = (y * l.width + x) * 3;
      for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(rgb[o + k]! - want[k]!));
    }
  }
  expect(worst).toBeLessThanOrEqual(1);
}

describe('i420Layout', () => {
  it('pads rows by the Pi 0-4 rule (Y stride to 64, chroma half of it) and the Pi 5 rule (chroma to 64, Y twice)', () => {
    expect(i420Layout(200, 150, 'pi4')).toEqual({ width: 200, height: 150, yStride: 256, uvStride: 128, uOffset: 38400, vOffset: 48000, frameSize: 57600 });
    expect(i420Layout(200, 150, 'pi5')).toMatchObject({ yStride: 256, uvStride: 128, frameSize: 57600 });
    // 320 = 5 * 64: no padding on a Pi 4, but 160 chroma bytes round up to 192 on a Pi 5.
    expect(i420Layout(320, 240, 'pi4')).toMatchObject({ yStride: 320, uvStride: 160, frameSize: 115200 });
    expect(i420Layout(320, 240, 'pi5')).toMatchObject({ yStride: 384, uvStride: 192, frameSize: 384 * 240 + 192 * 120 * 2 });
    expect(i420Layout(200, 150, 'none')).toMatchObject({ yStride: 200, uvStride: 100, frameSize: 45000 });
  });

  it('has no padding at widths that are multiples of 128, whatever the board', () => {
    for (const rule of ['pi4', 'pi5', 'none'] as const) {
      expect(i420Layout(640, 480, rule)).toMatchObject({ yStride: 640, uvStride: 320, frameSize: 460800 });
    }
  });

  it('rounds chroma up for odd sizes and refuses nonsense', () => {
    expect(i420Layout(7, 5, 'none')).toMatchObject({ uvStride: 4, uOffset: 35, vOffset: 35 + 12, frameSize: 59 });
    expect(() => i420Layout(0, 10, 'none')).toThrow(/invalid I420 size/);
    expect(() => i420Layout(10.5, 10, 'none')).toThrow(/invalid I420 size/);
  });
});

describe('strideRuleForModel', () => {
  it.each([
    ['Raspberry Pi 5 Model B Rev 1.0', 'pi5'],
    ['Raspberry Pi Compute Module 5 Rev 1.0', 'pi5'],
    ['Raspberry Pi 500 Rev 1.0', 'pi5'],
    ['Raspberry Pi 4 Model B Rev 1.4', 'pi4'],
    ['Raspberry Pi Zero 2 W Rev 1.0', 'pi4'],
    ['Raspberry Pi 3 Model B Plus Rev 1.3', 'pi4'],
    ['Raspberry Pi Compute Module 4 Rev 1.0', 'pi4'],
    ['Rockchip RK3588', 'none'],
  ])('%s -> %s', (model, rule) => {
    expect(strideRuleForModel(model)).toBe(rule);
  });
});

describe('i420ToRgb', () => {
  const solid = (y: number, u: number, v: number): Buffer => {
    const l = i420Layout(8, 6, 'none');
    const out = Buffer.alloc(8 * 6 * 3);
    i420ToRgb(makeI420(l, () => y, () => u, () => v), l, out);
    return out;
  };

  it('keeps full-range levels: Y=235 stays 235 (not white), Y=16 stays 16 (not black), 0 and 255 reach the ends', () => {
    expect([...solid(235, 128, 128)]).toEqual(new Array(8 * 6 * 3).fill(235));
    expect([...solid(16, 128, 128)]).toEqual(new Array(8 * 6 * 3).fill(16));
    expect([...solid(0, 128, 128)]).toEqual(new Array(8 * 6 * 3).fill(0));
    expect([...solid(255, 128, 128)]).toEqual(new Array(8 * 6 * 3).fill(255));
  });

  it('gives the primaries of full-range BT.601 in R, G, B order (within the rounding of 8-bit Y, U, V)', () => {
    // Full-range BT.601 of pure red is Y=76, U=85, V=255 (255.5 clamped); green Y=150, U=44, V=21; blue Y=29, U=255, V=107.
    const primaries: [number, number, number, number[]][] = [
      [76, 85, 255, [255, 0, 0]],
      [150, 44, 21, [0, 255, 0]],
      [29, 255, 107, [0, 0, 255]],
    ];
    for (const [y, u, v, rgb] of primaries) {
      const got = [...solid(y, u, v).subarray(0, 3)];
      expect(got).toEqual(reference(y, u, v));
      got.forEach((c, k) => expect(Math.abs(c - rgb[k]!), `${rgb} channel ${k}`).toBeLessThanOrEqual(2));
    }
  });

  it.each<[number, number, StrideRule]>([
    [200, 150, 'pi4'],
    [200, 150, 'pi5'],
    [320, 240, 'pi5'],
    [96, 64, 'none'],
    [7, 5, 'none'],
    [7, 5, 'pi5'],
    [13, 2, 'pi4'],
  ])('matches the floating-point formula pixel by pixel at %ix%i with %s strides', (w, h, rule) => {
    const l = i420Layout(w, h, rule);
    const out = Buffer.alloc(w * h * 3, 0x55);
    i420ToRgb(makeI420(l, pattern.y, pattern.u, pattern.v), l, out);
    expectPixelsMatch(l, out, pattern.y, pattern.u, pattern.v);
  });

  it('refuses a short frame or a short output buffer instead of reading or writing past them', () => {
    const l = i420Layout(16, 16, 'none');
    expect(() => i420ToRgb(Buffer.alloc(l.frameSize - 1), l, Buffer.alloc(16 * 16 * 3))).toThrow(/expected 384/);
    expect(() => i420ToRgb(Buffer.alloc(l.frameSize), l, Buffer.alloc(10))).toThrow(/expected 768/);
  });
});

describe('i420ToRgbResized', () => {
  const modes: ResizeMode[] = ['stretch', 'letterbox', 'crop'];
  const sizes: [number, number, number, number][] = [
    [640, 480, 300, 300],
    [480, 640, 300, 300],
    [200, 150, 224, 224],
    [1280, 720, 320, 320],
    [320, 240, 320, 240],
    [300, 300, 128, 96],
  ];

  it('plans the same rectangles and geometry as prepareInput, for every mode', async () => {
    for (const [w, h, dw, dh] of sizes) {
      for (const mode of modes) {
        const viaSharp = await prepareInput({ width: w, height: h, data: Buffer.alloc(w * h * 3) }, dw, dh, mode);
        expect(planResize(w, h, dw, dh, mode).geometry, `${w}x${h}->${dw}x${dh} ${mode}`).toEqual(viaSharp.geometry);
      }
    }
  });

  it('at the same size is exactly the full-size conversion', () => {
    const l = i420Layout(200, 150, 'pi4');
    const src = makeI420(l, pattern.y, pattern.u, pattern.v);
    const full = Buffer.alloc(200 * 150 * 3);
    i420ToRgb(src, l, full);
    for (const mode of modes) expect(i420ToRgbResized(src, l, 200, 150, mode).data.equals(full)).toBe(true);
  });

  it('looks like convert-then-sharp on a smooth picture, with letterbox bars exactly black', async () => {
    const l = i420Layout(640, 480, 'none');
    const fy = (x: number, y: number): number => Math.round(40 + (x / 639) * 150 + (y / 479) * 60);
    const fu = (x: number): number => Math.round(90 + (x / 319) * 70);
    const fv = (_x: number, y: number): number => Math.round(170 - (y / 239) * 80);
    const src = makeI420(l, fy, fu, fv);
    const full = Buffer.alloc(640 * 480 * 3);
    i420ToRgb(src, l, full);
    for (const mode of modes) {
      const viaSharp = await prepareInput({ width: 640, height: 480, data: full }, 300, 300, mode);
      const out = Buffer.alloc(300 * 300 * 3, 0x77);
      const onePass = i420ToRgbResized(src, l, 300, 300, mode, out);
      expect(onePass.data).toBe(out); // the caller's buffer, reused
      let sum = 0;
      for (let i = 0; i < out.length; i++) sum += Math.abs(out[i]! - viaSharp.data[i]!);
      expect(sum / out.length, mode).toBeLessThan(1.5);
    }
    const letterbox = i420ToRgbResized(src, l, 300, 300, 'letterbox').data;
    const { dst } = planResize(640, 480, 300, 300, 'letterbox');
    expect(dst).toEqual({ x: 0, y: 37, w: 300, h: 225 });
    expect(letterbox.subarray(0, 37 * 900).every((b) => b === 0)).toBe(true);
    expect(letterbox.subarray((37 + 225) * 900).every((b) => b === 0)).toBe(true);
    expect(letterbox.subarray(37 * 900, 38 * 900).some((b) => b !== 0)).toBe(true);
  });

  it('odd output sizes (a last row and column of their own) look like convert-then-sharp too, every byte written', async () => {
    const l = i420Layout(640, 480, 'none');
    const src = makeI420(l, (x, y) => Math.round(40 + (x / 639) * 150 + (y / 479) * 60), (x) => Math.round(90 + (x / 319) * 70), (_x, y) => Math.round(170 - (y / 239) * 80));
    const full = Buffer.alloc(640 * 480 * 3);
    i420ToRgb(src, l, full);
    for (const [dw, dh] of [[127, 95], [129, 129], [1, 1], [301, 225]] as const) {
      for (const mode of modes) {
        const viaSharp = await prepareInput({ width: 640, height: 480, data: full }, dw, dh, mode);
        // Into two buffers filled differently beforehand: a byte left unwritten shows as a difference.
        const out = Buffer.alloc(dw * dh * 3, 0x01);
        const again = Buffer.alloc(dw * dh * 3, 0xfe);
        i420ToRgbResized(src, l, dw, dh, mode, out);
        i420ToRgbResized(src, l, dw, dh, mode, again);
        expect(again.equals(out), `${dw}x${dh} ${mode}: every byte written`).toBe(true);
        let sum = 0;
        for (let i = 0; i < out.length; i++) sum += Math.abs(out[i]! - viaSharp.data[i]!);
        expect(sum / out.length, `${dw}x${dh} ${mode}`).toBeLessThan(2);
      }
    }
  });

  it('honours strides: a padded frame resizes exactly like the same picture unpadded', () => {
    const packed = i420Layout(200, 150, 'none');
    const padded = i420Layout(200, 150, 'pi5');
    const a = i420ToRgbResized(makeI420(packed, pattern.y, pattern.u, pattern.v), packed, 96, 96, 'crop').data;
    const b = i420ToRgbResized(makeI420(padded, pattern.y, pattern.u, pattern.v), padded, 96, 96, 'crop').data;
    expect(b.equals(a)).toBe(true);
  });

  // Their speed (optimised code that stays optimised on real frames): test/integration/camera-i420-optimised.test.ts.
});
