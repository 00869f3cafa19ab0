import { describe, expect, it } from 'vitest';
import { cropResizeI420, cropResizeRgb, squareCropRect } from '../../src/pixels/crop.js';
import { i420Layout } from '../../src/pixels/i420-layout.js';
import { i420ToRgb } from '../../src/pixels/i420-rgb.js';

describe('squareCropRect', () => {
  it('squares the box on its centre with the margin of its longer side', () => {
    // A 100x50 box in the middle of 640x480, margin 10 %: side 100 * 1.2 = 120, centred on (320, 240).
    const r = squareCropRect({ xmin: 270 / 640, xmax: 370 / 640, ymin: 215 / 480, ymax: 265 / 480 }, 640, 480, 0.1);
    expect(r).toEqual({ x: 260, y: 180, w: 120, h: 120 });
  });

  it('moves the square inside the frame at an edge instead of cutting it', () => {
    const r = squareCropRect({ xmin: 0, xmax: 0.1, ymin: 0.9, ymax: 1 }, 640, 480, 0);
    expect(r.w).toBe(64);
    expect(r.h).toBe(64);
    expect(r.x).toBe(0);
    expect(r.y).toBe(480 - 64);
  });

  it('cuts to the frame only when the square is larger than its shorter side', () => {
    const r = squareCropRect({ xmin: 0.05, xmax: 0.95, ymin: 0.1, ymax: 0.9 }, 640, 480, 0.1);
    expect(r.h).toBe(480);
    expect(r.y).toBe(0);
    expect(r.w).toBe(640);
  });

  it('never gives an empty rectangle for a degenerate box', () => {
    const r = squareCropRect({ xmin: 0.5, xmax: 0.5, ymin: 0.5, ymax: 0.5 }, 10, 10, 0);
    expect(r.w).toBeGreaterThanOrEqual(1);
    expect(r.h).toBeGreaterThanOrEqual(1);
  });
});

describe('cropResizeRgb', () => {
  const W = 40;
  const H = 30;
  const frame = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) frame.set([x * 5, y * 7, (x + y) & 255], (y * W + x) * 3);

  it('copies the rectangle exactly at the same size', () => {
    const rect = { x: 7, y: 4, w: 12, h: 9 };
    const out = cropResizeRgb(frame, W, H, rect, 12, 9);
    for (let y = 0; y < 9; y++) {
      for (let x = 0; x < 12; x++) {
        expect([...out.subarray((y * 12 + x) * 3, (y * 12 + x) * 3 + 3)]).toEqual([(x + 7) * 5, (y + 4) * 7, (x + y + 11) & 255]);
      }
    }
  });

  it('reads nothing outside the rectangle when it scales', () => {
    const rect = { x: 10, y: 10, w: 10, h: 10 };
    const out = cropResizeRgb(frame, W, H, rect, 25, 25);
    for (let i = 0; i < out.length; i += 3) {
      expect(out[i]).toBeGreaterThanOrEqual(50);
      expect(out[i]).toBeLessThanOrEqual(95);
      expect(out[i + 1]).toBeGreaterThanOrEqual(70);
      expect(out[i + 1]).toBeLessThanOrEqual(133);
    }
  });

  it('names the crop and the frame when the rectangle is outside', () => {
    expect(() => cropResizeRgb(frame, W, H, { x: 35, y: 0, w: 10, h: 10 }, 4, 4)).toThrow('crop 10x10+35+0 is not inside the 40x30 frame');
  });
});

describe('cropResizeI420', () => {
  it('matches a full conversion followed by the RGB crop (within chroma sampling)', () => {
    const l = i420Layout(64, 48, 'pi4'); // padded rows
    const src = new Uint8Array(l.frameSize).fill(0xaa);
    for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) src[y * l.yStride + x] = (x * 3 + y * 2) & 255;
    for (let y = 0; y < 24; y++) {
      for (let x = 0; x < 32; x++) {
        src[l.uOffset + y * l.uvStride + x] = 128;
        src[l.vOffset + y * l.uvStride + x] = 128;
      }
    }
    const full = new Uint8Array(64 * 48 * 3);
    i420ToRgb(src, l, full);
    const rect = { x: 16, y: 8, w: 32, h: 32 };
    const a = cropResizeI420(src, l, rect, 16, 16);
    const b = cropResizeRgb(full, 64, 48, rect, 16, 16);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThanOrEqual(1);
  });
});
