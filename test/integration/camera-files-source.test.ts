import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FilesSource, type FilesSourceOptions } from '../../src/camera/files-source.js';
import type { Frame, FrameSink } from '../../src/camera/frame.js';
import type { Detector } from '../../src/inference/detector.js';
import { CameraPipeline } from '../../src/pipeline/camera-pipeline.js';
import { silentLogger } from '../../src/system/logger.js';
import { pino } from 'pino';
import { bmpBombHeader, jpegBomb, pngBomb } from '../helpers/image-bombs.js';
import { trackSourceTimers } from '../helpers/timers.js';
import { until } from '../helpers/wait.js';

const imagesDir = path.resolve(process.cwd(), '../shared/images');
const tmp = mkdtempSync(path.join(tmpdir(), 'camera-files-source-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const EXPECTED = [
  ['bird.bmp', 512, 343],
  ['burger.jpg', 480, 325],
  ['cat.bmp', 512, 341],
  ['cats_and_dogs.jpg', 1200, 600],
  ['dragonfly.bmp', 512, 418],
  ['grace_hopper.bmp', 512, 600],
  ['multi_objects.jpg', 902, 358],
  ['sparrow.png', 1280, 851],
  ['sunflower.bmp', 512, 340],
] as const;

class RecordingSink implements FrameSink {
  frames: Frame[] = [];
  skips: Array<{ origin: string; reason: string }> = [];
  ends: string[] = [];
  statuses: string[] = [];
  private wake: (() => void) | null = null;

  status(state: string, reason: string): void {
    this.statuses.push(`${state}: ${reason}`);
  }

  frame(f: Frame): void {
    this.frames.push(f);
    this.wake?.();
  }
  skipped(origin: string, reason: string): void {
    this.skips.push({ origin, reason });
    this.wake?.();
  }
  ended(reason: string): void {
    this.ends.push(reason);
    this.wake?.();
  }
  /** Waits for a sink event that makes `done` true; the timeout only bounds a failing test (the machine may be loaded). */
  async until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const sources: FilesSource[] = [];
function source(options: Partial<FilesSourceOptions> & { path: string }): FilesSource {
  const s = new FilesSource('test', { fps: 20, loop: false, ...options }, silentLogger());
  sources.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

describe('FilesSource', () => {
  // The rate itself (exact, no drift, no burst) is checked on a fake clock: test/unit/camera-files-source-timing.test.ts.
  it('plays a directory in name order, then ends', async () => {
    const sink = new RecordingSink();
    const src = source({ path: imagesDir, fps: 20 });
    const startedAt = performance.now();
    await src.start(sink);
    await sink.until('end', () => sink.ends.length > 0);
    expect(sink.frames.map((f) => [path.basename(f.origin), f.width, f.height])).toEqual(EXPECTED.map((e) => [...e]));
    for (const [i, f] of sink.frames.entries()) {
      expect(f.seq).toBe(i);
      expect(f.camera).toBe('test');
      expect(f.data.length).toBe(f.width * f.height * 3);
      expect(f.captureMs).toBeGreaterThan(0);
      expect(f.captureMs).toBeLessThanOrEqual(f.capturedAt - startedAt); // the decode's own time, not since some epoch
    }
    // Frames are timed, not read back to back: the 9th read began no earlier than 8 intervals of 50 ms after start.
    const last = sink.frames.at(-1)!;
    expect(last.capturedAt - last.captureMs - startedAt).toBeGreaterThanOrEqual(8 * 50 - 1);
    expect(sink.ends).toEqual(['all 9 files delivered']);
    expect(sink.skips).toEqual([]);
    expect(src.counters()).toEqual({ captured: 9, skipped: 0, restarts: 0 });
    await sleep(150);
    expect(sink.frames).toHaveLength(9); // nothing after the end
  });

  it('at fps 0 reads one image per pull, each file once and in order, with no timer', async () => {
    const sink = new RecordingSink();
    const src = source({ path: imagesDir, fps: 0 });
    expect(src.pull).toBeTypeOf('function');
    src.pull!(); // before start: remembered, served once the files are listed
    await src.start(sink);
    await sink.until('first frame', () => sink.frames.length === 1);
    await sleep(150);
    expect(sink.frames).toHaveLength(1); // nothing without a pull
    src.pull!();
    src.pull!(); // two pulls, two images, read one after the other
    await sink.until('two more frames', () => sink.frames.length === 3);
    await sleep(100);
    expect(sink.frames).toHaveLength(3);
    while (sink.ends.length === 0) {
      const before = sink.frames.length;
      src.pull!();
      await sink.until(`frame ${before + 1}`, () => sink.frames.length > before || sink.ends.length > 0);
    }
    expect(sink.frames.map((f) => path.basename(f.origin))).toEqual(EXPECTED.map((e) => e[0]));
    expect(sink.ends).toEqual(['all 9 files delivered']);
    src.pull!(); // after the end: nothing
    await sleep(100);
    expect(sink.frames).toHaveLength(9);
  });

  it('repeat shows each image that many times in a row (a still scene); the end counts files, not showings', async () => {
    const sink = new RecordingSink();
    const src = source({ path: imagesDir, fps: 0, repeat: 3 });
    await src.start(sink);
    while (sink.ends.length === 0) {
      const before = sink.frames.length;
      src.pull!();
      await sink.until(`frame ${before + 1}`, () => sink.frames.length > before || sink.ends.length > 0);
    }
    expect(sink.frames.map((f) => path.basename(f.origin))).toEqual(EXPECTED.flatMap((e) => [e[0], e[0], e[0]]));
    expect(sink.ends).toEqual(['all 9 files delivered']);
  });

  it('has no pull at a frame rate: its frames come from its timer', () => {
    expect(source({ path: imagesDir, fps: 5 }).pull).toBeUndefined();
  });

  it('loops back to the first file', async () => {
    const sink = new RecordingSink();
    const src = source({ path: path.join(imagesDir, '*.jpg'), fps: 40, loop: true });
    await src.start(sink);
    await sink.until('8 frames', () => sink.frames.length >= 8);
    await src.stop();
    const order = sink.frames.map((f) => path.basename(f.origin));
    expect(order.slice(0, 7)).toEqual(['burger.jpg', 'cats_and_dogs.jpg', 'multi_objects.jpg', 'burger.jpg', 'cats_and_dogs.jpg', 'multi_objects.jpg', 'burger.jpg']);
    expect(sink.ends).toEqual([]);
  });

  it('skips and names unreadable files, delivers the others', async () => {
    const dir = mkdtempSync(path.join(tmp, 'mixed-'));
    const burger = readFileSync(path.join(imagesDir, 'burger.jpg'));
    const cat = readFileSync(path.join(imagesDir, 'cat.bmp'));
    copyFileSync(path.join(imagesDir, 'burger.jpg'), path.join(dir, 'a.jpg'));
    writeFileSync(path.join(dir, 'b.jpg'), burger.subarray(0, burger.length >> 1));
    writeFileSync(path.join(dir, 'c.bmp'), cat.subarray(0, 1000));
    copyFileSync(path.join(imagesDir, 'sparrow.png'), path.join(dir, 'd.png'));
    const sink = new RecordingSink();
    const src = source({ path: dir, fps: 50 });
    await src.start(sink);
    await sink.until('end', () => sink.ends.length > 0);
    expect(sink.frames.map((f) => path.basename(f.origin))).toEqual(['a.jpg', 'd.png']);
    expect(sink.frames.map((f) => f.seq)).toEqual([0, 1]);
    expect(sink.skips.map((s) => path.basename(s.origin))).toEqual(['b.jpg', 'c.bmp']);
    expect(sink.skips[0]!.reason).toMatch(/premature end/);
    expect(sink.skips[1]!.reason).toMatch(/truncated BMP/);
    expect(src.counters()).toEqual({ captured: 2, skipped: 2, restarts: 0 });
    expect(sink.ends).toEqual(['2 of 4 files delivered, 2 skipped']);
  });

  it('ends with a clear reason instead of spinning when every file fails', async () => {
    const dir = mkdtempSync(path.join(tmp, 'bad-'));
    writeFileSync(path.join(dir, 'one.jpg'), 'not an image');
    writeFileSync(path.join(dir, 'two.png'), 'not an image either');
    const sink = new RecordingSink();
    const src = source({ path: dir, fps: 100, loop: true });
    await src.start(sink);
    await sink.until('end', () => sink.ends.length > 0);
    expect(sink.ends).toEqual([`all 2 files failed to decode (${dir})`]);
    await sleep(200);
    expect(src.counters()).toEqual({ captured: 0, skipped: 2, restarts: 0 });
    expect(sink.frames).toEqual([]);
  });

  it('reports its status like the other cameras: online with the first frame, offline at the end of the list or a stop, error when every file fails', async () => {
    const played = new RecordingSink();
    await source({ path: path.join(imagesDir, 's*.???'), fps: 50 }).start(played);
    await played.until('end', () => played.ends.length > 0);
    expect(played.statuses).toEqual(['online: frames flowing', 'offline: all 2 files delivered']);

    const stopped = new RecordingSink();
    const looping = source({ path: path.join(imagesDir, 'cat.bmp'), fps: 50, loop: true });
    await looping.start(stopped);
    await stopped.until('a frame', () => stopped.frames.length > 0);
    await looping.stop();
    expect(stopped.statuses).toEqual(['online: frames flowing', 'offline: source stopped']);

    const dir = mkdtempSync(path.join(tmp, 'bad-status-'));
    writeFileSync(path.join(dir, 'one.jpg'), 'not an image');
    const failing = new RecordingSink();
    await source({ path: dir, fps: 50, loop: true }).start(failing);
    await failing.until('end', () => failing.ends.length > 0);
    expect(failing.statuses).toEqual([`error: all 1 files failed to decode (${dir})`]);
  });

  it('a glob selects by file name', async () => {
    const sink = new RecordingSink();
    const src = source({ path: path.join(imagesDir, 's*.???'), fps: 50 });
    await src.start(sink);
    await sink.until('end', () => sink.ends.length > 0);
    expect(sink.frames.map((f) => path.basename(f.origin))).toEqual(['sparrow.png', 'sunflower.bmp']);
    expect(sink.ends).toEqual(['all 2 files delivered']);
  });

  it('start rejects, naming the path, when nothing matches', async () => {
    const pattern = path.join(imagesDir, '*.gif');
    await expect(source({ path: pattern }).start(new RecordingSink())).rejects.toThrow(`found at ${pattern}`);
    const missing = path.join(tmp, 'no-such-dir');
    await expect(source({ path: missing }).start(new RecordingSink())).rejects.toThrow(missing);
    const empty = mkdtempSync(path.join(tmp, 'empty-'));
    await expect(source({ path: empty }).start(new RecordingSink())).rejects.toThrow(`found at ${empty}`);
  });

  it('stop waits for the decode in flight, then nothing is delivered and no timer is left', async () => {
    const timers = trackSourceTimers();
    const sink = new RecordingSink();
    const src = source({ path: imagesDir, fps: 1, loop: true });
    await src.start(sink);
    await sink.until('a frame', () => sink.frames.length >= 1);
    await sleep(20); // the next frame's timer is armed now
    await src.stop();
    const delivered = sink.frames.length;
    await sleep(50); // far less than the 1 s frame interval: a timer left armed would still be alive
    expect(sink.frames).toHaveLength(delivered);
    timers.dispose();
    expect(timers.live()).toEqual([]);
    expect(sink.ends).toEqual([]);
  });

  it('stop right after start, with the first decode in flight', async () => {
    const sink = new RecordingSink();
    const src = source({ path: path.join(imagesDir, 'sparrow.png'), fps: 10, loop: true });
    await src.start(sink);
    await sleep(2); // the first tick is due at once: the PNG decode is now running
    await src.stop();
    await sleep(100);
    expect(sink.frames).toEqual([]);
  });

  it('rejects a second start and a bad fps', async () => {
    const src = source({ path: imagesDir });
    await src.start(new RecordingSink());
    await expect(src.start(new RecordingSink())).rejects.toThrow(/already started/);
    expect(() => new FilesSource('x', { path: imagesDir, fps: -1, loop: false }, silentLogger())).toThrow(/fps must be >= 0/);
    expect(() => new FilesSource('x', { path: imagesDir, fps: Number.NaN, loop: false }, silentLogger())).toThrow(/fps must be >= 0/);
  });

  it('a sink that throws does not stop the source', async () => {
    let calls = 0;
    const sink: FrameSink = {
      frame: () => {
        calls++;
        throw new Error('buggy consumer');
      },
      skipped: () => {},
      ended: () => {},
    };
    const src = source({ path: path.join(imagesDir, 'burger.jpg'), fps: 50, loop: true });
    await src.start(sink);
    await until(() => calls >= 3, 20_000, 'three frames into the throwing sink');
  });
});

describe('FilesSource and image bombs', () => {
  /** A good picture and three bombs (a real 16000x16000 PNG, a JPEG and a BMP whose headers claim 100+ MP). */
  function bombFolder(): string {
    const dir = mkdtempSync(path.join(tmp, 'bombs-'));
    copyFileSync(path.join(imagesDir, 'burger.jpg'), path.join(dir, 'a.jpg'));
    writeFileSync(path.join(dir, 'b.png'), pngBomb(16000, 16000));
    writeFileSync(path.join(dir, 'c.jpg'), jpegBomb(readFileSync(path.join(imagesDir, 'burger.jpg')), 10000, 10000));
    writeFileSync(path.join(dir, 'd.bmp'), bmpBombHeader(16000, 16000));
    return dir;
  }

  it('refuses them undecoded, counts and reports each once however many passes, and reads a replaced one again', async () => {
    const dir = bombFolder();
    const sink = new RecordingSink();
    const src = source({ path: dir, fps: 0, loop: true });
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    await src.start(sink);
    for (let pass = 1; pass <= 3; pass++) {
      src.pull!();
      await sink.until(`pass ${pass}`, () => sink.frames.length === pass);
    }
    // Decoding the PNG alone makes a 768 MB RGB buffer.
    expect(process.resourceUsage().maxRSS * 1024 - peakBefore).toBeLessThan(200 * 1024 * 1024);
    expect(sink.frames.map((f) => path.basename(f.origin))).toEqual(['a.jpg', 'a.jpg', 'a.jpg']);
    expect(sink.skips.map((s) => [path.basename(s.origin), s.reason])).toEqual([
      ['b.png', 'image too large: 16000x16000 (256 MP) is over the 50 MP limit; not decoded'],
      ['c.jpg', 'image too large: 10000x10000 (100 MP) is over the 50 MP limit; not decoded'],
      ['d.bmp', 'image too large: 16000x16000 (256 MP) is over the 50 MP limit; not decoded'],
    ]);
    expect(src.counters()).toEqual({ captured: 3, skipped: 3, restarts: 0 });

    copyFileSync(path.join(imagesDir, 'cat.bmp'), path.join(dir, 'd.bmp')); // a new picture under the same name
    src.pull!();
    await sink.until('the replaced file', () => sink.frames.length === 4);
    expect(path.basename(sink.frames[3]!.origin)).toBe('d.bmp');
    expect(sink.skips).toHaveLength(3);
  });

  it('a camera whose files are all bombs ends after one pass, each reported once', async () => {
    const dir = bombFolder();
    rmSync(path.join(dir, 'a.jpg'));
    const sink = new RecordingSink();
    await source({ path: dir, fps: 50, loop: true }).start(sink);
    await sink.until('end', () => sink.ends.length > 0);
    expect(sink.ends).toEqual([`all 3 files failed to decode (${dir})`]);
    expect(sink.skips).toHaveLength(3);
  });

  it("in the daemon's pipeline: one warn per bomb, naming the file, its size and the limit, over many passes", async () => {
    const dir = bombFolder();
    const logs: Array<{ level: number; msg: string; frame?: string; reason?: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const detector: Detector = {
      backend: 'cpu',
      model: { name: 'fake.tflite', path: '/fake.tflite', kind: 'ssd', inputWidth: 32, inputHeight: 32 },
      start: async () => undefined,
      stop: async () => undefined,
      detect: async () => ({ results: [], inferenceMs: 1, backend: 'cpu' }),
    };
    const src = source({ path: dir, fps: 0, loop: true });
    const pipeline = new CameraPipeline(
      { camera: 'bombs', detectFps: 0, resize: 'stretch', filters: { minScore: 0.5, labels: [], perLabel: {}, maxResults: 10 }, publish: { qos: 0, retain: false, offline: 'latest' } },
      src,
      detector,
      { topic: (...p) => p.join('/'), publish: () => {} },
      log,
    );
    await pipeline.start();
    try {
      await until(() => pipeline.counters().processed >= 5, 20_000, '5 passes');
    } finally {
      await pipeline.stop();
    }
    const warns = logs.filter((l) => l.level === 40);
    expect(warns.map((w) => [path.basename(w.frame!), w.reason])).toEqual([
      ['b.png', 'image too large: 16000x16000 (256 MP) is over the 50 MP limit; not decoded'],
      ['c.jpg', 'image too large: 10000x10000 (100 MP) is over the 50 MP limit; not decoded'],
      ['d.bmp', 'image too large: 16000x16000 (256 MP) is over the 50 MP limit; not decoded'],
    ]);
    expect(pipeline.counters().skipped).toBe(3);
  });
});

