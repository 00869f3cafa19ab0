import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DecodedImage } from '../../src/camera/decode.js';
import { FilesSource } from '../../src/camera/files-source.js';
import { silentLogger } from '../../src/system/logger.js';

/*
 * The files camera's clock, on fake timers: decoding and the file system are stand-ins that take exactly as long as
 * each test says, so the rate claims hold to the millisecond on any machine, however loaded. (Real decoding is
 * exercised in test/integration/camera-files-source.test.ts.)
 */
let decodeMs: (n: number) => number = () => 0;
let decodes = 0;

vi.mock('../../src/camera/decode.js', async (original) => ({
  ...(await original<typeof import('../../src/camera/decode.js')>()),
  decodeImageFile: async (): Promise<DecodedImage> => {
    const ms = decodeMs(decodes++);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    return { width: 2, height: 1, data: Buffer.alloc(6) };
  },
}));
vi.mock('../../src/camera/image-files.js', async (original) => ({
  ...(await original<typeof import('../../src/camera/image-files.js')>()),
  listImageFiles: async () => ['/pictures/a.jpg'],
}));
vi.mock('node:fs/promises', async (original) => ({
  ...(await original<typeof import('node:fs/promises')>()),
  stat: async () => ({ size: 1000, mtimeMs: 1 }),
}));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
  decodes = 0;
  decodeMs = () => 0;
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs a looping 50 fps files camera for `ms` of fake time; returns when each frame was captured. */
async function run(ms: number): Promise<number[]> {
  const times: number[] = [];
  const src = new FilesSource('clock', { path: '/pictures/a.jpg', fps: 50, loop: true }, silentLogger());
  const t0 = performance.now();
  await src.start({ frame: (f) => void times.push(f.capturedAt - t0), skipped: () => {}, ended: () => {} });
  await vi.advanceTimersByTimeAsync(ms);
  const stopped = src.stop(); // waits for the decode in flight, which waits for the fake clock
  const seen = times.length;
  await vi.advanceTimersByTimeAsync(1_000);
  await stopped;
  expect(times).toHaveLength(seen); // nothing after stop
  return times;
}

const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => Math.round(t - times[i]!));

describe('FilesSource timing (fake clock)', () => {
  it('keeps 50 fps against the clock: 500 frames in 10 s, one every 20 ms', async () => {
    const times = await run(10_000);
    expect(times).toHaveLength(501); // t = 0, 20, ..., 10000
    expect(new Set(gaps(times))).toEqual(new Set([20]));
  });

  it('does not drift when decoding takes time: due times are absolute, not "interval after the last frame"', async () => {
    decodeMs = () => 7; // a timer of 20 ms after each decode would give one frame every 27 ms: 371 in 10 s
    const times = await run(10_000);
    expect(times).toHaveLength(500);
    expect(new Set(gaps(times))).toEqual(new Set([20]));
  });

  it('after a long stall, starts again at once and then at the rate, without a burst of catch-up frames', async () => {
    decodeMs = (n) => (n === 10 ? 300 : 0); // the 11th image takes 300 ms: 15 frame intervals
    const times = await run(1_000);
    const stalled = times[10]!;
    expect(Math.round(stalled)).toBe(500); // due at 200, ready 300 ms later
    expect(Math.round(times[11]! - stalled)).toBeLessThanOrEqual(1); // the overdue frame, at once
    // Then on the interval again, counted from the stall: not the 15 overdue frames in a row a catch-up would send.
    expect(new Set(times.slice(12).map((t) => Math.round(t - stalled) % 20))).toEqual(new Set([0]));
    expect(times.filter((t) => t > stalled && t <= stalled + 100)).toHaveLength(6);
  });
});
