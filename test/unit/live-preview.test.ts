import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/camera/frame.js';
import { LivePreview } from '../../src/pipeline/live-preview.js';
import { CameraStats } from '../../src/stats/camera-stats.js';

const frame = (wallTime: number): Frame =>
  ({ camera: 'cam', seq: 0, capturedAt: 0, wallTime, captureMs: 0, width: 32, height: 24, data: Buffer.alloc(32 * 24 * 3, 128), origin: 'test' }) as Frame;

describe('LivePreview', () => {
  it('renders nothing while nobody asks; a request takes the next frame, with its boxes, as JPEG', async () => {
    const preview = new LivePreview({ camera: 'cam', maxWidth: 32, quality: 80 });
    expect(preview.wanted).toBe(false);
    preview.offer(frame(1000), []); // nobody asked: nothing rendered
    const asked = preview.request();
    expect(preview.wanted).toBe(true);
    preview.offer(frame(2000), [{ label: 'cat', classId: 16, score: 0.9, box: { xmin: 0.1, ymin: 0.1, xmax: 0.6, ymax: 0.9 } }]);
    const got = await asked;
    expect(got).toMatchObject({ camera: 'cam', ts: new Date(2000).toISOString() });
    expect(got!.jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(preview.wanted).toBe(false);
  });

  it('serves a fresh preview at once, and the last one when no frame comes in time (a paused or silent camera)', async () => {
    let now = 0;
    const preview = new LivePreview({ camera: 'cam', maxWidth: 32, quality: 80, waitMs: 50, freshMs: 500 }, () => now);
    expect(await preview.request()).toBeUndefined(); // nothing ever: undefined after waitMs
    const first = preview.request();
    preview.offer(frame(1000), []);
    const a = await first;
    now = 100;
    expect(await preview.request()).toBe(a); // fresh: no wait, no new render
    now = 1000;
    const stale = preview.request();
    expect(preview.wanted).toBe(true);
    expect(await stale).toBe(a); // no frame within waitMs: the last one
  });
});

describe('CameraStats.recent', () => {
  it('gives the median of the last 32 frames without closing the stats interval', () => {
    const stats = new CameraStats();
    expect(stats.recent()).toEqual({ frames: 0, inferenceMs: null, totalMs: null });
    for (let i = 1; i <= 100; i++) stats.recordProcessed({ capture: 0, preprocess: 0, inference: i, postprocess: 0, total: i + 5 });
    expect(stats.recent()).toEqual({ frames: 32, inferenceMs: 84, totalMs: 89 }); // frames 69..100
    expect(stats.snapshot(1).latencyMs.inference.count).toBe(100); // the interval still saw every frame
  });
});
