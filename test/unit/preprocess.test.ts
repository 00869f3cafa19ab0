import { describe, expect, it } from 'vitest';
import { prepareInput, toFrameBox } from '../../src/inference/preprocess.js';
import type { ResizeMode } from '../../src/pixels/resize-plan.js';

/** A black frame with one white rectangle, in pixels [x0, x1) x [y0, y1). */
function frame(w: number, h: number, rect: [number, number, number, number]) {
  const data = Buffer.alloc(w * h * 3);
  const [x0, y0, x1, y1] = rect;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  return { width: w, height: h, data };
}

/** Bounding box of the bright pixels of an RGB image, normalised. */
function brightBox(data: Buffer, w: number, h: number) {
  let xmin = w, ymin = h, xmax = -1, ymax = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (data[(y * w + x) * 3]! > 127) {
        xmin = Math.min(xmin, x);
        xmax = Math.max(xmax, x + 1);
        ymin = Math.min(ymin, y);
        ymax = Math.max(ymax, y + 1);
      }
  return { xmin: xmin / w, ymin: ymin / h, xmax: xmax / w, ymax: ymax / h };
}

describe('prepareInput', () => {
  const W = 320, H = 160;
  const rect: [number, number, number, number] = [120, 40, 200, 120];
  const truth = { xmin: 120 / W, ymin: 40 / H, xmax: 200 / W, ymax: 120 / H };

  for (const mode of ['stretch', 'letterbox', 'crop'] as ResizeMode[]) {
    it(`${mode}: output is the model size and boxes map back to the frame`, async () => {
      const p = await prepareInput(frame(W, H, rect), 100, 100, mode);
      expect(p.data.length).toBe(100 * 100 * 3);
      const back = toFrameBox(brightBox(p.data, 100, 100), p.geometry);
      for (const k of ['xmin', 'ymin', 'xmax', 'ymax'] as const) expect(Math.abs(back[k] - truth[k])).toBeLessThan(0.03);
    });
  }

  it('letterbox pads with black bars above and below a wide frame', async () => {
    const white = frame(200, 100, [0, 0, 200, 100]);
    const p = await prepareInput(white, 100, 100, 'letterbox');
    expect(p.data[0]).toBe(0); // top-left: bar
    expect(p.data[(50 * 100 + 50) * 3]).toBe(255); // centre: picture
    expect(p.data[(99 * 100 + 50) * 3]).toBe(0); // bottom: bar
  });

  it('crop keeps the centre of a wide frame and cuts the sides', async () => {
    const p = await prepareInput(frame(W, H, [0, 0, 40, H]), 100, 100, 'crop');
    expect(brightBox(p.data, 100, 100).xmax).toBeLessThan(0); // the left strip is cut away entirely
  });

  it('names the size mismatch when a frame is short of bytes', async () => {
    await expect(prepareInput({ width: 10, height: 10, data: Buffer.alloc(299) }, 5, 5, 'stretch')).rejects.toThrow(/299 bytes, expected 300/);
  });
});

describe('prepareFrame from a camera I420 frame', () => {
  it('gives the same model input as the RGB path (within resampling noise) and the same geometry', async () => {
    const { i420Frame } = await import('../../src/camera/i420-frame.js');
    const { FrameBufferPool } = await import('../../src/camera/frame-buffer-pool.js');
    const { i420Layout } = await import('../../src/pixels/i420-layout.js');
    const { prepareFrame } = await import('../../src/inference/preprocess.js');
    const w = 200, h = 150;
    const layout = i420Layout(w, h, 'pi4'); // padded rows: 200 is not a multiple of 64
    const raw = new Uint8Array(layout.frameSize);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw[y * layout.yStride + x] = Math.round((x / w) * 200 + 20);
    for (let y = 0; y < Math.ceil(h / 2); y++)
      for (let x = 0; x < Math.ceil(w / 2); x++) {
        raw[layout.uOffset + y * layout.uvStride + x] = 128 + Math.round((y / h) * 100);
        raw[layout.vOffset + y * layout.uvStride + x] = 100;
      }
    const frame = i420Frame(
      { camera: 'c', seq: 0, capturedAt: 0, wallTime: 0, captureMs: 0, width: w, height: h, origin: 't' },
      { data: Buffer.from(raw), release: () => undefined },
      layout,
      new FrameBufferPool(w * h * 3),
    );
    for (const mode of ['stretch', 'letterbox', 'crop'] as ResizeMode[]) {
      const fromI420 = await prepareFrame(frame, 64, 64, mode);
      const fromRgb = await prepareInput(frame, 64, 64, mode);
      expect(fromI420.geometry).toEqual(fromRgb.geometry);
      let diff = 0;
      for (let i = 0; i < fromRgb.data.length; i++) diff += Math.abs(fromI420.data[i]! - fromRgb.data[i]!);
      expect(diff / fromRgb.data.length, mode).toBeLessThan(4);
    }
    frame.release!();
  });
});
