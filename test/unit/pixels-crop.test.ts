import { describe, expect, it } from 'vitest';
import { prepareCrop } from '../../src/inference/preprocess.js';
import { i420Layout } from '../../src/pixels/i420-layout.js';
import { i420CropToRgb } from '../../src/pixels/i420-resize.js';
import { i420ToRgb } from '../../src/pixels/i420-rgb.js';

const W = 640;
const H = 480;
const layout = i420Layout(W, H, 'none');
/** Grey (U = V = 128) with luma = a smooth function of x and y, so bilinear sampling is easy to predict. */
const luma = (x: number, y: number): number => Math.round((x / W) * 200 + (y / H) * 50);
const frameBytes = (() => {
  const b = new Uint8Array(layout.frameSize).fill(128);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) b[y * W + x] = luma(x, y);
  return b;
})();

describe('crop + resize from I420 in one pass', () => {
  it('takes the rectangle asked for, and its geometry maps output coordinates back to the frame', () => {
    const rect = { x: 200, y: 100, w: 300, h: 300 };
    const { data, geometry } = i420CropToRgb(frameBytes, layout, rect, 150, 150);
    expect(geometry).toEqual({ ax: 300 / W, bx: 200 / W, ay: 300 / H, by: 100 / H });
    for (const [ox, oy] of [[0, 0], [75, 75], [149, 149], [10, 140]] as const) {
      // Output pixel centre -> frame position.
      const fx = rect.x + ((ox + 0.5) * rect.w) / 150 - 0.5;
      const fy = rect.y + ((oy + 0.5) * rect.h) / 150 - 0.5;
      expect(Math.abs(data[(oy * 150 + ox) * 3]! - luma(fx, fy))).toBeLessThanOrEqual(1);
    }
  });

  it('refuses a rectangle that leaves the frame, naming both', () => {
    expect(() => i420CropToRgb(frameBytes, layout, { x: 500, y: 0, w: 300, h: 300 }, 100, 100)).toThrow(/crop 300x300\+500\+0 does not lie within the 640x480 frame/);
  });

  it('the RGB path (libvips) gives the same picture as the I420 path', async () => {
    const rgb = Buffer.alloc(W * H * 3);
    i420ToRgb(frameBytes, layout, rgb);
    const rect = { x: 40, y: 60, w: 400, h: 400 };
    const a = await prepareCrop({ camera: 'c', seq: 0, capturedAt: 0, wallTime: 0, captureMs: 0, width: W, height: H, data: rgb, origin: 'x' }, rect, 100, 100);
    const b = await prepareCrop({ camera: 'c', seq: 0, capturedAt: 0, wallTime: 0, captureMs: 0, width: W, height: H, data: rgb, origin: 'x', i420: { data: frameBytes, layout } }, rect, 100, 100);
    expect(a.geometry).toEqual(b.geometry);
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!));
    expect(worst).toBeLessThanOrEqual(3);
  });
});
