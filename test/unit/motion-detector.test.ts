import { describe, expect, it } from 'vitest';
import { i420Layout } from '../../src/pixels/i420-layout.js';
import { LumaPlane } from '../../src/motion/luma-plane.js';
import { MotionDetector, SETTLE_FRAMES, type MotionOptions } from '../../src/motion/motion-detector.js';

const W = 1920;
const H = 1080;

/** A still textured I420 scene with optional dark squares (objects) and a brightness offset. */
function scene(opts: { squares?: { x: number; y: number; size: number }[]; brighten?: number; stride?: number } = {}) {
  const layout = i420Layout(W, H, 'none');
  const data = new Uint8Array(layout.frameSize).fill(128);
  const add = opts.brighten ?? 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) data[y * layout.yStride + x] = Math.min(255, 100 + ((x >> 5) + (y >> 5)) % 3 * 20 + add);
  }
  for (const s of opts.squares ?? []) {
    for (let y = s.y; y < s.y + s.size; y++) for (let x = s.x; x < s.x + s.size; x++) data[y * layout.yStride + x] = 10;
  }
  return { width: W, height: H, origin: 'synthetic', i420: { data, layout }, get data(): Buffer { throw new Error('RGB not expected'); } };
}

const opts: MotionOptions = { threshold: 25, minArea: 0.001, masks: [] };

describe('LumaPlane', () => {
  it('makes a 320x180 plane from 1080p and follows the I420 stride', () => {
    const layout = i420Layout(W, H, 'pi4'); // 1920 is a multiple of 64: pad-free, so use an odd width too
    expect(new LumaPlane(W, H).width).toBe(320);
    expect(new LumaPlane(W, H).height).toBe(180);
    const l2 = i420Layout(100, 50, 'pi4');
    expect(l2.yStride).toBe(128);
    const data = new Uint8Array(l2.frameSize).fill(0xaa); // padding 0xaa, picture 40
    for (let y = 0; y < 50; y++) data.fill(40, y * l2.yStride, y * l2.yStride + 100);
    const plane = new LumaPlane(100, 50);
    const out = plane.sample({ width: 100, height: 50, origin: 'x', i420: { data, layout: l2 }, data: Buffer.alloc(0) });
    expect([...out].every((v) => v === 40)).toBe(true);
    expect(layout.width).toBe(W);
  });

  it('turns RGB grey with BT.601 weights', () => {
    const rgb = Buffer.alloc(64 * 48 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([200, 100, 50], i);
    const out = new LumaPlane(64, 48).sample({ width: 64, height: 48, origin: 'x', data: rgb });
    expect(out[0]).toBeCloseTo(0.299 * 200 + 0.587 * 100 + 0.114 * 50, -0.5);
  });

  it('names the frame whose size does not match', () => {
    expect(() => new LumaPlane(64, 48).sample({ width: 32, height: 48, origin: '/dev/video0', data: Buffer.alloc(32 * 48 * 3) })).toThrow(/\/dev\/video0 is 32x48, motion expects 64x48/);
  });
});

describe('MotionDetector', () => {
  it('reports nothing on a still scene and a box where a square moved', () => {
    const m = new MotionDetector(W, H, opts);
    expect(m.detect(scene()).boxes).toEqual([]);
    expect(m.detect(scene()).boxes).toEqual([]);
    const r = m.detect(scene({ squares: [{ x: 600, y: 300, size: 200 }] }));
    expect(r.boxes).toHaveLength(1);
    const b = r.boxes[0]!;
    // Within a plane pixel (6 px) plus the dilation of the square's real edges.
    expect(b.xmin * W).toBeGreaterThan(600 - 20);
    expect(b.xmin * W).toBeLessThan(600 + 1);
    expect(b.xmax * W).toBeGreaterThan(800 - 1);
    expect(b.xmax * W).toBeLessThan(800 + 20);
    expect(b.ymin * H).toBeGreaterThan(300 - 20);
    expect(b.ymax * H).toBeLessThan(500 + 20);
  });

  it('gives one box per separate moving object', () => {
    const m = new MotionDetector(W, H, opts);
    m.detect(scene());
    const r = m.detect(scene({ squares: [{ x: 100, y: 100, size: 150 }, { x: 1500, y: 800, size: 150 }] }));
    expect(r.boxes).toHaveLength(2);
  });

  it('drops motion smaller than minArea', () => {
    const m = new MotionDetector(W, H, { ...opts, minArea: 0.01 }); // 1% of 1080p: about 144x144 px
    m.detect(scene());
    expect(m.detect(scene({ squares: [{ x: 100, y: 100, size: 60 }] })).boxes).toEqual([]);
    const big = new MotionDetector(W, H, { ...opts, minArea: 0.01 });
    big.detect(scene());
    expect(big.detect(scene({ squares: [{ x: 100, y: 100, size: 250 }] })).boxes).toHaveLength(1);
  });

  it('ignores motion under a mask', () => {
    const m = new MotionDetector(W, H, { ...opts, masks: [[[0, 0], [0.5, 0], [0.5, 1], [0, 1]]] });
    m.detect(scene());
    const r = m.detect(scene({ squares: [{ x: 100, y: 100, size: 200 }, { x: 1500, y: 800, size: 150 }] }));
    expect(r.boxes).toHaveLength(1);
    expect(r.boxes[0]!.xmin).toBeGreaterThan(0.5);
  });

  it('ignores a change smaller than the threshold', () => {
    const m = new MotionDetector(W, H, opts);
    m.detect(scene());
    expect(m.detect(scene({ brighten: 20 })).boxes).toEqual([]);
  });

  it('recalibrates on a global change: one recalibration, a few settling frames, then calm', () => {
    const m = new MotionDetector(W, H, opts);
    m.detect(scene());
    const jump = m.detect(scene({ brighten: 80 }));
    expect(jump).toMatchObject({ boxes: [], recalibrated: true });
    expect(jump.changed).toBeGreaterThan(0.5);
    for (let i = 0; i < SETTLE_FRAMES; i++) expect(m.detect(scene({ brighten: 80 }))).toMatchObject({ boxes: [], recalibrated: false, settling: true });
    expect(m.detect(scene({ brighten: 80 }))).toMatchObject({ boxes: [], recalibrated: false, settling: false });
    // After it, motion is seen against the new background.
    expect(m.detect(scene({ brighten: 80, squares: [{ x: 600, y: 300, size: 200 }] })).boxes).toHaveLength(1);
  });

  it('absorbs an object that stops into the background', () => {
    const m = new MotionDetector(W, H, opts);
    m.detect(scene());
    const parked = scene({ squares: [{ x: 600, y: 300, size: 200 }] });
    let frames = 0;
    while (m.detect(parked).boxes.length > 0) if (++frames > 200) break;
    expect(frames).toBeGreaterThan(5);
    expect(frames).toBeLessThan(100);
  });
});
