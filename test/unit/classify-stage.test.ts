import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/camera/frame.js';
import type { CropClassifier } from '../../src/inference/classify/classifier.js';
import type { DetectResult } from '../../src/inference/detector.js';
import type { Detection } from '../../src/inference/types.js';
import { ClassifyStage } from '../../src/pipeline/classify-stage.js';
import { ClassifierStats } from '../../src/stats/classifier-stats.js';
import { silentLogger } from '../../src/system/logger.js';

const W = 64;
const H = 48;
/** A frame whose red channel is the column and green the row: a crop's pixels tell where it was taken. */
const frame: Frame = (() => {
  const data = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x * 4, y * 5, 0], (y * W + x) * 3);
  return { camera: 'c', seq: 7, capturedAt: 0, wallTime: 0, captureMs: 0, width: W, height: H, data, origin: 'test' };
})();

/** A classifier that names a crop by where it was taken (left or right half), or fails when told to. */
function fake(opts: { objects?: string[]; minScore?: number; topK?: number; maxCrops?: number; reuseFrames?: number; fail?: boolean; ready?: boolean } = {}): CropClassifier & { crops: Uint8Array[] } {
  const crops: Uint8Array[] = [];
  return {
    name: 'fake',
    crops,
    ready: opts.ready ?? true,
    config: { objects: opts.objects ?? ['bird'], model: { cpu: 'fake.tflite', edgetpu: null }, edgetpuDevice: null, labels: null, minScore: opts.minScore ?? 0.3, topK: opts.topK ?? 1, maxCrops: opts.maxCrops ?? 3, reuseFrames: opts.reuseFrames ?? 1, margin: 0 },
    inputSize: () => ({ width: 8, height: 8 }),
    classify(rgb: Uint8Array): Promise<DetectResult> {
      crops.push(rgb);
      if (opts.fail) return Promise.reject(new Error('host died'));
      const left = rgb[0]! < 128;
      const results: Detection[] = [
        { label: left ? 'chickadee' : 'sparrow', classId: left ? 1 : 2, score: 0.9 },
        { label: 'jay', classId: 3, score: 0.2 },
        { label: 'wren', classId: 4, score: 0.05 },
      ];
      return Promise.resolve({ results, inferenceMs: 5, backend: 'cpu' });
    },
  };
}

const bird = (xmin: number, xmax: number, score = 0.8): Detection => ({ label: 'bird', classId: 15, score, box: { xmin, xmax, ymin: 0.2, ymax: 0.8 } });

describe('ClassifyStage', () => {
  it('names each detection from its own crop of the full frame', async () => {
    const c = fake();
    const out = await new ClassifyStage([c], silentLogger()).apply(frame, [bird(0.05, 0.3), bird(0.7, 0.95, 0.6)]);
    expect(out.map((d) => d.subLabel)).toEqual(['chickadee', 'sparrow']);
    expect(out.map((d) => d.subScore)).toEqual([0.9, 0.9]);
    expect(c.crops).toHaveLength(2);
    expect(c.crops[0]).toHaveLength(8 * 8 * 3);
  });

  it('leaves the input detections unchanged and keeps the others as they were', async () => {
    const input = [bird(0.05, 0.3), { label: 'cat', classId: 16, score: 0.7, box: { xmin: 0, xmax: 1, ymin: 0, ymax: 1 } }];
    const copy = structuredClone(input);
    const out = await new ClassifyStage([fake()], silentLogger()).apply(frame, input);
    expect(input).toEqual(copy);
    expect(out[1]).toEqual(copy[1]);
    expect(out[1]!.subLabel).toBeUndefined();
  });

  it('gives no sub-label below minScore', async () => {
    const out = await new ClassifyStage([fake({ minScore: 0.95 })], silentLogger()).apply(frame, [bird(0.05, 0.3)]);
    expect(out[0]!.subLabel).toBeUndefined();
    expect(out[0]!.subScore).toBeUndefined();
  });

  it('lists the top K at or above minScore when topK > 1', async () => {
    const out = await new ClassifyStage([fake({ topK: 3, minScore: 0.1 })], silentLogger()).apply(frame, [bird(0.05, 0.3)]);
    expect(out[0]!.subLabels).toEqual([
      { label: 'chickadee', score: 0.9 },
      { label: 'jay', score: 0.2 },
    ]);
  });

  it('a failing classifier leaves the detection without a sub-label, counts the error, never throws', async () => {
    const stats = new ClassifierStats();
    const out = await new ClassifyStage([fake({ fail: true })], silentLogger(), stats).apply(frame, [bird(0.05, 0.3)]);
    expect(out[0]!.subLabel).toBeUndefined();
    expect(stats.snapshot(['fake']).fake).toMatchObject({ crops: 0, errors: 1, frames: 1 });
  });

  it('a classifier that is not running is not asked, and wants() says there is nothing to do', async () => {
    const c = fake({ ready: false });
    const stage = new ClassifyStage([c], silentLogger());
    expect(stage.wants([bird(0.05, 0.3)])).toBe(false);
    await stage.apply(frame, [bird(0.05, 0.3)]);
    expect(c.crops).toHaveLength(0);
  });

  it('classifies at most maxCrops per frame, best detector scores first, and counts the rest', async () => {
    const stats = new ClassifierStats();
    const c = fake({ maxCrops: 2 });
    const out = await new ClassifyStage([c], silentLogger(), stats).apply(frame, [bird(0.05, 0.3, 0.5), bird(0.7, 0.95, 0.9), bird(0.4, 0.6, 0.7)]);
    expect(out.map((d) => d.subLabel !== undefined)).toEqual([false, true, true]);
    expect(stats.snapshot(['fake']).fake).toMatchObject({ crops: 2, skipped: 1, frames: 1, cropsPerFrame: 2 });
  });

  it('reuses an answer for an object that stays put, for reuseFrames frames, then classifies it again', async () => {
    const stats = new ClassifierStats();
    const c = fake({ reuseFrames: 3 });
    const stage = new ClassifyStage([c], silentLogger(), stats);
    const names: (string | undefined)[] = [];
    for (let i = 0; i < 7; i++) {
      // The bird moves a little (IoU well above 0.5): the same object.
      const out = await stage.apply(frame, [bird(0.05 + i * 0.005, 0.3 + i * 0.005)]);
      names.push(out[0]!.subLabel);
    }
    expect(names.every((n) => n === 'chickadee')).toBe(true);
    // Frames 1, 4 and 7 are classified; the others reuse.
    expect(c.crops).toHaveLength(3);
    expect(stats.snapshot(['fake']).fake).toMatchObject({ crops: 3, frames: 7 });
  });

  it('classifies a new object at once, even while another one reuses its answer', async () => {
    const c = fake({ reuseFrames: 100 });
    const stage = new ClassifyStage([c], silentLogger());
    await stage.apply(frame, [bird(0.05, 0.3)]);
    const out = await stage.apply(frame, [bird(0.05, 0.3), bird(0.7, 0.95, 0.5)]);
    expect(out.map((d) => d.subLabel)).toEqual(['chickadee', 'sparrow']);
    expect(c.crops).toHaveLength(2);
  });

  it('with reuseFrames 1 classifies every detection of every frame', async () => {
    const c = fake({ reuseFrames: 1 });
    const stage = new ClassifyStage([c], silentLogger());
    for (let i = 0; i < 3; i++) await stage.apply(frame, [bird(0.05, 0.3)]);
    expect(c.crops).toHaveLength(3);
  });

  it('counts frames without detections toward reuseFrames: an answer ages by camera frames', async () => {
    const c = fake({ reuseFrames: 3 });
    const stage = new ClassifyStage([c], silentLogger());
    await stage.apply(frame, [bird(0.05, 0.3)]);
    await stage.apply(frame, []);
    await stage.apply(frame, []);
    await stage.apply(frame, [bird(0.05, 0.3)]);
    expect(c.crops).toHaveLength(2);
  });

  it('keeps an answer across a frame where the detector missed the object', async () => {
    const c = fake({ reuseFrames: 10 });
    const stage = new ClassifyStage([c], silentLogger());
    await stage.apply(frame, [bird(0.05, 0.3)]);
    await stage.apply(frame, []);
    const out = await stage.apply(frame, [bird(0.05, 0.3)]);
    expect(out[0]!.subLabel).toBe('chickadee');
    expect(c.crops).toHaveLength(1);
  });
});
