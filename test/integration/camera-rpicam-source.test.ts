import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Frame, FrameSink } from '../../src/camera/frame.js';
import { LatestFrameSlot } from '../../src/camera/latest-frame-slot.js';
import { rpicamArgs, type RpicamSettings } from '../../src/camera/rpicam-args.js';
import { RpicamSource } from '../../src/camera/rpicam-source.js';
import type { SupervisorTiming } from '../../src/camera/supervised-process.js';
import { trackSourceTimers } from '../helpers/timers.js';
import { RPICAM_DEFAULTS } from '../helpers/rpicam-defaults.js';
import { until as waitUntil } from '../helpers/wait.js';

/*
 * RpicamSource against test/fixtures/rpicam/rpicam-vid: a bash stand-in driven by ffmpeg's lavfi sources that pads
 * rows like a Pi 4 or Pi 5 and reproduces rpicam-vid's failures with its real error texts (switches: see the script).
 */
const FAKE_DIR = path.resolve(import.meta.dirname, '..', 'fixtures', 'rpicam');
const tmp = mkdtempSync(path.join(tmpdir(), 'camera-rpicam-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FAST: Partial<SupervisorTiming> = { backoffMinMs: 50, backoffMaxMs: 200, killAfterMs: 500 };
const SETTINGS: RpicamSettings = { ...RPICAM_DEFAULTS, width: 200, height: 150, framerate: 20, stride: 'none' };

/** Exact planes through ffmpeg's geq (X, Y are plane coordinates): the same functions give the expected pixels. */
const PATTERN_VF = "geq=lum='mod(X*7+Y*13,256)':cb='mod(X*29+Y*3+40,256)':cr='mod(X*5+Y*31+90,256)'";
const pattern = {
  y: (x: number, y: number) => (x * 7 + y * 13) % 256,
  u: (x: number, y: number) => (x * 29 + y * 3 + 40) % 256,
  v: (x: number, y: number) => (x * 5 + y * 31 + 90) % 256,
};
function reference(y: number, u: number, v: number): number[] {
  const c = (n: number): number => Math.min(255, Math.max(0, Math.round(n)));
  return [c(y + 1.402 * (v - 128)), c(y - 0.344136 * (u - 128) - 0.714136 * (v - 128)), c(y + 1.772 * (u - 128))];
}
/** The largest difference from the full-range BT.601 reference of the pattern, over every pixel. */
function patternError(f: Frame): number {
  let worst = 0;
  for (let y = 0; y < f.height; y++) {
    for (let x = 0; x < f.width; x++) {
      const want = reference(pattern.y(x, y), pattern.u(x >> 1, y >> 1), pattern.v(x >> 1, y >> 1));
      for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(f.data[(y * f.width + x) * 3 + k]! - want[k]!));
    }
  }
  return worst;
}

type LogLine = { level: number; msg: string; [k: string]: unknown };

class RecordingSink implements FrameSink {
  frames: Frame[] = [];
  skips: string[] = [];
  ends: string[] = [];
  statuses: string[] = [];
  frame(f: Frame): void {
    // Copy: the source reuses released buffers, and these frames are never released.
    this.frames.push({ ...f, data: Buffer.from(f.data) });
  }
  skipped(origin: string, reason: string): void {
    this.skips.push(`${origin}: ${reason}`);
  }
  ended(reason: string): void {
    this.ends.push(reason);
  }
  status(state: string, reason: string): void {
    this.statuses.push(`${state}: ${reason}`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** `until` with the camera suites' argument order: what first; the timeout only bounds a failing test on a loaded machine. */
const until = (what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> => waitUntil(done, timeoutMs, what, 10);
/**
 * The stall limit also bounds the next run's start-up (bash, then ffmpeg's first frame: ~0.5 s here under load), so
 * stall tests use a generous one rather than a fraction of a second.
 */
const STALL_SECONDS = 3;
function expectGone(pid: number): void {
  expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
}

interface Started {
  src: RpicamSource;
  sink: RecordingSink;
  logs: LogLine[];
  /** Every run of the fake: its pid and the name it was started as. */
  runs: () => { pid: number; name: string }[];
  args: () => string[][];
}

const started: Started[] = [];
let n = 0;
function source(over: Partial<RpicamSettings>, fake: Record<string, string>, options: { timing?: Partial<SupervisorTiming>; path?: string; model?: string } = {}): Started {
  const logFile = path.join(tmp, `run-${n++}.log`);
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as LogLine) });
  const env = { ...process.env, PATH: options.path ?? `${FAKE_DIR}:${process.env.PATH}`, FAKE_RPICAM_LOG: logFile, ...fake };
  const deviceTreeModel = path.join(tmp, `model-${n}`);
  if (options.model !== undefined) writeFileSync(deviceTreeModel, `${options.model}\0`);
  const src = new RpicamSource('pi', { ...SETTINGS, ...over }, logger, { env, deviceTreeModel }, { ...FAST, ...options.timing });
  const lines = (): string[] => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n') : []);
  const s: Started = {
    src,
    sink: new RecordingSink(),
    logs,
    runs: () => lines().flatMap((l) => (l.startsWith('run ') ? [{ pid: Number(l.split(' ')[1]), name: l.split(' ')[2]! }] : [])),
    args: () => {
      const all: string[][] = [[]];
      for (const l of lines()) {
        if (l.startsWith('arg ')) all.at(-1)!.push(l.slice(4));
        else if (l.startsWith('run ')) all.push([]);
      }
      return all.slice(0, -1);
    },
  };
  started.push(s);
  return s;
}
afterEach(async () => {
  // Whatever a test did, stop() must leave no rpicam-vid behind.
  for (const s of started.splice(0)) {
    await s.src.stop();
    for (const { pid } of s.runs()) expectGone(pid);
  }
});

describe('RpicamSource: pixels', () => {
  it('keeps full-range levels: Y=235, U=V=128 comes out as RGB 235,235,235 in every pixel', async () => {
    const s = source({}, { FAKE_RPICAM_VF: 'geq=lum=235:cb=128:cr=128' });
    await s.src.start(s.sink);
    await until('2 frames', () => s.sink.frames.length >= 2);
    for (const f of s.sink.frames) {
      expect([f.width, f.height, f.data.length, f.camera]).toEqual([200, 150, 200 * 150 * 3, 'pi']);
      expect(f.data.every((b) => b === 235)).toBe(true);
    }
  });

  it.each<[string, number, number, string, Partial<RpicamSettings>, string?]>([
    ['Pi 4 padding, configured', 200, 150, 'pi4', { stride: 'pi4' }],
    ['Pi 5 padding, configured', 200, 150, 'pi5', { stride: 'pi5' }],
    ['Pi 5 padding where a Pi 4 has none', 320, 240, 'pi5', { stride: 'pi5' }],
    ['Pi 4 padding, detected from the device tree', 200, 150, 'pi4', { stride: 'auto' }, 'Raspberry Pi 4 Model B Rev 1.4'],
    ['Pi 5 padding, detected from the device tree', 320, 240, 'pi5', { stride: 'auto' }, 'Raspberry Pi 5 Model B Rev 1.0'],
    ['no padding off a Pi', 200, 150, 'none', { stride: 'auto' }],
  ])('converts a known pattern pixel by pixel: %s (%ix%i)', async (_name, width, height, fakeStride, over, model) => {
    const s = source({ width, height, ...over }, { FAKE_RPICAM_VF: PATTERN_VF, FAKE_RPICAM_STRIDE: fakeStride }, { model });
    await s.src.start(s.sink);
    await until('3 frames', () => s.sink.frames.length >= 3);
    for (const f of s.sink.frames) expect(patternError(f)).toBeLessThanOrEqual(1);
    expect(s.sink.frames.map((f) => f.seq).slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('shows a wrong stride rule (so the pattern check above can fail)', async () => {
    const s = source({ width: 320, height: 240, stride: 'pi4' }, { FAKE_RPICAM_VF: PATTERN_VF, FAKE_RPICAM_STRIDE: 'pi5' });
    await s.src.start(s.sink);
    await until('3 frames', () => s.sink.frames.length >= 3);
    expect(Math.max(...s.sink.frames.map(patternError))).toBeGreaterThan(50);
  });

  it('decodes MJPEG to RGB at the configured size', async () => {
    const s = source({ codec: 'mjpeg', width: 160, height: 120 }, {});
    await s.src.start(s.sink);
    await until('3 frames', () => s.sink.frames.length >= 3);
    for (const f of s.sink.frames) expect([f.width, f.height, f.data.length]).toEqual([160, 120, 160 * 120 * 3]);
    expect(s.sink.frames[0]!.data.equals(s.sink.frames.at(-1)!.data)).toBe(false); // testsrc2 moves
    expect(s.sink.skips).toEqual([]);
    expect(s.sink.statuses[0]).toBe('online: frames flowing');
  });
});

describe('RpicamSource: failures', () => {
  it('discards the partial frame of a crash (never delivered), reports offline, restarts and comes back online', async () => {
    const frame = 200 * 150 * 1.5;
    const s = source({}, { FAKE_RPICAM_VF: PATTERN_VF, FAKE_RPICAM_CRASH_BYTES: String(frame * 2.5), FAKE_RPICAM_FAIL_RUNS: '1' });
    await s.src.start(s.sink);
    await until('the second run', () => s.sink.frames.length >= 5);
    for (const f of s.sink.frames) expect(patternError(f)).toBeLessThanOrEqual(1);
    expect(s.logs.find((l) => l.msg === 'partial frame at rpicam-vid exit discarded')?.bytes).toBe(frame / 2);
    expect(s.sink.statuses).toHaveLength(3);
    expect(s.sink.statuses[0]).toBe('online: frames flowing');
    expect(s.sink.statuses[1]).toMatch(/^offline: rpicam-vid crashed \(killed by SIGSEGV\)/);
    expect(s.sink.statuses[2]).toBe('online: frames flowing');
    expect(s.src.counters()).toMatchObject({ restarts: 1, stalls: 0 });
  });

  it.each<[string, string, string]>([
    ['busy', 'offline', 'camera busy: another process (rpicam app, picamera2, a leftover run) holds it'],
    ['dmaheap', 'offline', 'camera buffers could not be allocated (CMA / dma-heap memory exhausted): lower the resolution or raise cma in config.txt'],
    ['nocamera', 'error', 'no cameras available: check the ribbon cable and camera_auto_detect / dtoverlay in /boot/firmware/config.txt; still retrying'],
  ])('recovers from "%s" once the camera is free: %s with the reason, then online', async (fail, state, reason) => {
    const s = source({}, { FAKE_RPICAM_FAIL: fail, FAKE_RPICAM_FAIL_RUNS: '2' });
    await s.src.start(s.sink);
    await until('frames', () => s.sink.frames.length >= 1);
    expect(s.sink.statuses).toEqual([`${state}: ${reason}`, 'online: frames flowing']);
    expect(s.src.counters().restarts).toBe(2);
    expect(s.sink.ends).toEqual([]);
    expect(s.runs()).toHaveLength(3);
  });

  it('keeps retrying a busy camera, and says error once it failed three times in a row', async () => {
    const s = source({}, { FAKE_RPICAM_FAIL: 'busy' });
    await s.src.start(s.sink);
    await until('4 restarts', () => s.src.counters().restarts >= 4);
    expect(s.sink.statuses).toEqual([
      'offline: camera busy: another process (rpicam app, picamera2, a leftover run) holds it',
      'error: camera busy: another process (rpicam app, picamera2, a leftover run) holds it; still retrying',
    ]);
    expect(s.sink.ends).toEqual([]);
  });

  it('gives up on arguments rpicam-vid rejects: error status, ended, no restart', async () => {
    const s = source({}, { FAKE_RPICAM_FAIL: 'badarg' });
    await s.src.start(s.sink);
    await until('ended', () => s.sink.ends.length > 0);
    await sleep(200);
    const reason = "rpicam-vid rejected its arguments (check source.extraArgs): unrecognised option '--bogus'";
    expect(s.sink.ends).toEqual([reason]);
    expect(s.sink.statuses).toEqual([`error: ${reason}`]);
    expect(s.src.counters().restarts).toBe(0);
  });

  it('ends with a clear message when neither rpicam-vid nor libcamera-vid is installed', async () => {
    const empty = path.join(tmp, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    const s = source({}, {}, { path: empty });
    await s.src.start(s.sink);
    await until('ended', () => s.sink.ends.length > 0);
    const reason = 'rpicam-vid not found on PATH (nor libcamera-vid): install rpicam-apps (apt-get install rpicam-apps)';
    expect(s.sink.ends).toEqual([reason]);
    expect(s.sink.statuses).toEqual([`error: ${reason}`]);
  });

  it('runs libcamera-vid when only that exists on PATH', async () => {
    const legacy = path.join(tmp, 'legacy-bin');
    mkdirSync(legacy, { recursive: true });
    symlinkSync(path.join(FAKE_DIR, 'rpicam-vid'), path.join(legacy, 'libcamera-vid'));
    const s = source({}, {}, { path: `${legacy}:${process.env.PATH}` });
    await s.src.start(s.sink);
    await until('a frame', () => s.sink.frames.length >= 1);
    expect(s.runs().map((r) => r.name)).toEqual(['libcamera-vid']);
  });

  it('kills a stalled rpicam-vid with SIGINT, counts the stall, restarts, and is online again', async () => {
    const s = source({ stallSeconds: STALL_SECONDS }, { FAKE_RPICAM_STALL_FRAMES: '3', FAKE_RPICAM_FAIL_RUNS: '1' });
    await s.src.start(s.sink);
    await until('frames after the stall', () => s.sink.frames.length >= 5 && s.runs().length >= 2);
    expect(s.src.counters()).toMatchObject({ stalls: 1, restarts: 1 });
    expect(s.sink.statuses).toHaveLength(3);
    expect(s.sink.statuses[1]).toMatch(/^offline: rpicam-vid stalled: no frame for \d+(\.\d)? s: .*Dequeue timer of 1000000\.00us has expired!$/);
    expect(s.sink.statuses[2]).toBe('online: frames flowing');
    expectGone(s.runs()[0]!.pid);
  });

  it('SIGKILLs a stalled rpicam-vid that ignores SIGINT', async () => {
    const s = source({ stallSeconds: STALL_SECONDS }, { FAKE_RPICAM_STALL_FRAMES: '2', FAKE_RPICAM_FAIL_RUNS: '1', FAKE_RPICAM_IGNORE_SIGINT: '1' }, { timing: { killAfterMs: 300 } });
    await s.src.start(s.sink);
    await until('the second run', () => s.runs().length >= 2 && s.sink.frames.length >= 3);
    expectGone(s.runs()[0]!.pid);
    expect(s.src.counters().stalls).toBe(1);
    expect(s.sink.statuses[1]).toMatch(/^offline: rpicam-vid stalled/);
  });
});

describe('RpicamSource: lifecycle and load', () => {

  it('passes its arguments without a shell, and stop() leaves no process, no timer and no late frame', async () => {
    const marker = path.join(tmp, 'pwned');
    const extraArgs = ['--annotate', `$(touch ${marker}) \`touch ${marker}\`; touch ${marker}`, '--ev', '-0.5'];
    const timers = trackSourceTimers();
    const s = source({ extraArgs, hflip: true }, {});
    await s.src.start(s.sink);
    await until('a frame', () => s.sink.frames.length >= 1);
    const pid = s.src.pid!;
    expect(s.args()).toEqual([rpicamArgs({ ...SETTINGS, extraArgs, hflip: true })]);
    await s.src.stop();
    expectGone(pid);
    expect(s.src.pid).toBeUndefined();
    const count = s.sink.frames.length;
    await sleep(150);
    expect(s.sink.frames).toHaveLength(count);
    expect(s.sink.statuses.at(-1)).toBe('offline: source stopped');
    expect(existsSync(marker)).toBe(false);
    timers.dispose();
    expect(timers.live()).toEqual([]);
    expect(process.getActiveResourcesInfo()).not.toContain('ProcessWrap');
  });

  it('with a slow consumer: always drains, drops in the slot and counts them, reuses a few buffers, memory stays flat', async () => {
    const slot = new LatestFrameSlot();
    const s = source({ width: 640, height: 480, framerate: 30 }, { FAKE_RPICAM_SOURCE: 'testsrc2' });
    await s.src.start({ frame: (f) => slot.put(f), skipped: () => {}, ended: () => {} });
    let taken = 0;
    let torn = 0;
    const consumer = (async () => {
      for (let f = await slot.take(); f; f = await slot.take()) {
        taken++;
        const copy = Buffer.from(f.data);
        await sleep(500); // a slow detector (2 a second), reading the frame the whole time
        if (!copy.equals(f.data)) torn++;
        f.release?.();
      }
    })();
    await until('streaming', () => s.src.counters().captured >= 5);
    const before = process.memoryUsage().arrayBuffers;
    const from = taken;
    await until('5 more frames taken', () => taken >= from + 5);
    const after = process.memoryUsage().arrayBuffers;
    await s.src.stop();
    slot.close();
    await consumer;
    const c = slot.counters();
    expect(c.put).toBe(s.src.counters().captured);
    expect(c.put).toBe(c.taken + c.dropped);
    // The producer was never held back by the consumer: it delivered more than twice what was taken (at 30 fps
    // against 2 a second, ~15 times; a source that stopped reading while the consumer was busy would drop ~none).
    expect(c.dropped).toBeGreaterThan(c.taken);
    expect(taken).toBe(c.taken);
    expect(torn).toBe(0); // no buffer reused while the consumer still read it
    expect(s.src.buffersAllocated).toBeLessThanOrEqual(4);
    expect(after - before).toBeLessThan(32 * 1024 * 1024);
  });
});
