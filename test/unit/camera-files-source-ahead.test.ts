import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DecodedImage } from '../../src/camera/decode.js';
import { FilesSource } from '../../src/camera/files-source.js';
import { silentLogger } from '../../src/system/logger.js';

/*
 * On demand, the files camera decodes two pictures ahead of the pipeline. Decoding is a stand-in that takes 10 ms of
 * fake time per picture (and fails for the files a test names), so what overlaps is exact on any machine.
 */
const FILES = ['/p/1.jpg', '/p/2.jpg', '/p/3.jpg', '/p/4.jpg'];
let started: { path: string; at: number }[] = [];
let failing = new Set<string>();

vi.mock('../../src/camera/decode.js', async (original) => {
  const real = await original<typeof import('../../src/camera/decode.js')>();
  return {
    ...real,
    decodeImageFile: async (path: string): Promise<DecodedImage> => {
      started.push({ path, at: performance.now() });
      await new Promise((r) => setTimeout(r, 10));
      if (failing.has(path)) throw new real.ImageDecodeError(path, 'not a JPEG');
      return { width: 2, height: 1, data: Buffer.from(path) };
    },
  };
});
vi.mock('../../src/camera/image-files.js', async (original) => ({
  ...(await original<typeof import('../../src/camera/image-files.js')>()),
  listImageFiles: async () => [...FILES],
}));

vi.mock('node:fs/promises', async (original) => ({
  ...(await original<typeof import('node:fs/promises')>()),
  stat: async () => ({ size: 1000, mtimeMs: 1 }),
}));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
  started = [];
  failing = new Set();
});
afterEach(() => vi.useRealTimers());

/** A pipeline that takes the next frame as soon as it has one; returns what it saw in `ms` of fake time. */
async function play(ms: number, loop = true): Promise<{ frames: string[]; skipped: string[]; ended: string[] }> {
  const seen = { frames: [] as string[], skipped: [] as string[], ended: [] as string[] };
  const src: FilesSource = new FilesSource('ahead', { path: '/p', fps: 0, loop }, silentLogger());
  await src.start({
    frame: (f) => {
      seen.frames.push(f.data.toString());
      queueMicrotask(() => src.pull!());
    },
    skipped: (file) => void seen.skipped.push(file),
    ended: (reason) => void seen.ended.push(reason),
  });
  src.pull!();
  await vi.advanceTimersByTimeAsync(ms);
  const stopping = src.stop();
  await vi.advanceTimersByTimeAsync(100);
  await stopping;
  return seen;
}

describe('FilesSource on demand: two pictures decoding ahead (fake clock)', () => {
  it('keeps two decodes in flight: a 10 ms decode gives a frame every 5 ms, in file order', async () => {
    const { frames } = await play(100);
    // Two at a time from t = 0: pictures ready at 10, 10, 20, 20, ... ms; one decode alone would give 10 frames.
    expect(frames.length).toBeGreaterThanOrEqual(19);
    expect(frames.length).toBeLessThanOrEqual(21);
    expect(frames).toEqual(frames.map((_, i) => FILES[i % 4]));
    // Never more than two decodes running at once.
    for (const { at } of started) expect(started.filter((s) => s.at > at - 10 && s.at <= at).length).toBeLessThanOrEqual(2);
  });

  it('reports a picture that fails in its turn, and keeps the order of the others', async () => {
    failing = new Set(['/p/3.jpg']);
    const { frames, skipped } = await play(100);
    expect(frames.slice(0, 6)).toEqual(['/p/1.jpg', '/p/2.jpg', '/p/4.jpg', '/p/1.jpg', '/p/2.jpg', '/p/4.jpg']);
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    expect(new Set(skipped)).toEqual(new Set(['/p/3.jpg']));
  });

  it('without loop, decodes each file once and ends after the last', async () => {
    const { frames, ended } = await play(200, false);
    expect(frames).toEqual(FILES);
    expect(started.map((s) => s.path)).toEqual(FILES);
    expect(ended).toEqual(['all 4 files delivered']);
  });
});
