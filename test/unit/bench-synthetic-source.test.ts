import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Frame } from '../../src/camera/frame.js';
import { LatestFrameSlot } from '../../src/camera/latest-frame-slot.js';
import { drawPattern, SyntheticSource, type SyntheticSourceOptions } from '../../src/bench/synthetic-source.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sources: SyntheticSource[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

function start(opts: SyntheticSourceOptions = {}): { source: SyntheticSource; slot: LatestFrameSlot; statuses: string[] } {
  const source = new SyntheticSource('syn', opts);
  sources.push(source);
  const slot = new LatestFrameSlot();
  const statuses: string[] = [];
  void source.start({ frame: (f) => slot.put(f), skipped: () => undefined, ended: () => undefined, status: (s) => statuses.push(s) });
  return { source, slot, statuses };
}

const W = 640;
const H = 480;

describe('SyntheticSource', () => {
  it('draws planes that repeat after one frame height, so any window is a whole frame', () => {
    const p = drawPattern(64, 48);
    for (const [plane, size] of [[p.rgb, 64 * 48 * 3], [p.y, 64 * 48], [p.u, 32 * 24], [p.v, 32 * 24]] as const) {
      expect(plane.length).toBe(2 * size);
      expect(plane.subarray(0, size).equals(plane.subarray(size))).toBe(true);
    }
    expect(new Set(p.y.subarray(0, 64 * 48)).size).toBeGreaterThan(50); // a picture, not a flat grey
  });

  it('gives 640x480 I420 frames (RGB on demand) that move from one frame to the next', async () => {
    const { slot, statuses } = start();
    const a = (await slot.take())!;
    const b = (await slot.take())!;
    expect(statuses).toEqual(['online']);
    expect([a.width, a.height]).toEqual([W, H]);
    expect(a.i420!.layout).toMatchObject({ width: W, height: H, yStride: W, uvStride: W / 2, frameSize: (W * H * 3) / 2 });
    expect(a.i420!.data).not.toBe(b.i420!.data); // pooled, never shared between frames in flight
    // A moving pattern: frame b's luma is frame a's shifted down by (b.seq - a.seq) steps of 4 rows.
    const shift = (b.seq - a.seq) * 4 * W;
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(Buffer.from(b.i420!.data.subarray(0, W * 8)).equals(Buffer.from(a.i420!.data.subarray(shift, shift + W * 8)))).toBe(true);
    expect(a.data.length).toBe(W * H * 3);
    expect(a.data).toBe(a.data); // converted once
    a.release?.();
    b.release?.();
  });

  it('gives packed RGB views in rgb format', async () => {
    const { slot } = start({ format: 'rgb' });
    const a = (await slot.take())!;
    expect(a.i420).toBeUndefined();
    expect(a.data.length).toBe(W * H * 3);
    a.release?.();
  });

  it('outruns inference: the timer keeps the slot fresh (counted drops) at over 150 fps', async () => {
    // The frame timer on a fake clock: 400 ms of it are 400 ms, however busy the machine.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { source, slot } = start({ fps: 250 });
    vi.advanceTimersByTime(400);
    await source.stop();
    const { put, dropped } = slot.counters();
    expect(put).toBe(1 + 400 / 4); // one at start, then one every 4 ms
    expect(dropped).toBe(put - 1);
    expect(source.counters().captured).toBe(put);
  });

  it('makes a fresh frame when pulled, so the one taken next is new (the older one counted as dropped)', async () => {
    const { source, slot } = start({ fps: 1 }); // a slow timer: only pulls can explain more frames
    const first = (await slot.take())!;
    expect(slot.hasPending).toBe(false);
    const before = source.counters().captured;
    first.release?.();
    first.release?.(); // a double release neither emits nor corrupts the pool
    expect(source.counters().captured).toBe(before);
    const pulledAt = performance.now();
    source.pull();
    source.pull();
    expect(source.counters().captured).toBe(before + 2);
    expect(slot.counters().dropped).toBe(1);
    const next = (await slot.take())!;
    expect(next.seq).toBe(first.seq + 2);
    expect(next.capturedAt).toBeGreaterThanOrEqual(pulledAt); // made by the pull, not before it (no stopwatch)
    expect(source.capturedAt(next.seq)).toBeCloseTo(next.capturedAt, 6);
    expect(source.capturedAt(next.seq + 100)).toBeUndefined();
    next.release?.();
  });

  it('stops producing on stop(), also when pulled afterwards', async () => {
    const { source, slot } = start({ fps: 500 });
    const frame: Frame = (await slot.take())!;
    await source.stop();
    const after = source.counters().captured;
    frame.release?.();
    source.pull();
    await sleep(30);
    expect(source.counters().captured).toBe(after);
  });
});
