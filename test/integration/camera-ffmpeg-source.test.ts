import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FfmpegSource, ffmpegArgs, type FfmpegSourceOptions, type FfmpegTiming } from '../../src/camera/ffmpeg-source.js';
import type { Frame, FrameSink } from '../../src/camera/frame.js';
import { LatestFrameSlot } from '../../src/camera/latest-frame-slot.js';
import { trackSourceTimers } from '../helpers/timers.js';
import { until as waitUntil } from '../helpers/wait.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'camera-ffmpeg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TESTSRC: FfmpegSourceOptions = {
  input: 'testsrc2=size=320x240:rate=30',
  inputOptions: ['-re', '-f', 'lavfi'],
  width: 160,
  height: 120,
  fps: 10,
};
const FAST: Partial<FfmpegTiming> = { backoffMinMs: 100, backoffMaxMs: 400, killAfterMs: 500 };

type LogLine = { level: number; msg: string; [k: string]: unknown };

class RecordingSink implements FrameSink {
  frames: Frame[] = [];
  skips: string[] = [];
  ends: string[] = [];
  frame(f: Frame): void {
    this.frames.push(f);
  }
  skipped(origin: string, reason: string): void {
    this.skips.push(`${origin}: ${reason}`);
  }
  ended(reason: string): void {
    this.ends.push(reason);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** `until` with the camera suites' argument order: what first; the timeout only bounds a failing test on a loaded machine. */
const until = (what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> => waitUntil(done, timeoutMs, what, 10);
function expectGone(pid: number): void {
  expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
}

const sources: FfmpegSource[] = [];
function source(options: Partial<FfmpegSourceOptions>, timing: Partial<FfmpegTiming> = {}): { src: FfmpegSource; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as LogLine) });
  const src = new FfmpegSource('cam', { ...TESTSRC, ...options }, logger, timing);
  sources.push(src);
  return { src, logs };
}
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});

/** A stand-in for ffmpeg: a script that misbehaves on purpose. */
function fakeFfmpeg(name: string, body: string, interpreter = process.execPath): string {
  const file = path.join(tmp, name);
  writeFileSync(file, `#!${interpreter}\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('FfmpegSource with a real ffmpeg', () => {
  it('delivers I420 frames of exactly width*height*1.5 bytes (RGB on demand) at the configured fps', async () => {
    // A 2 s input at 30 fps, read as fast as ffmpeg can (no -re): fps=10 must make exactly 20 frames of it, whatever
    // the machine's speed. Counted over the first run (the source restarts ffmpeg when the input ends).
    const sink = new RecordingSink();
    const statuses: string[] = [];
    const { src } = source({ input: 'testsrc2=size=320x240:rate=30:duration=2', inputOptions: ['-f', 'lavfi'] }, { backoffMinMs: 60_000 });
    await src.start({ frame: (f) => sink.frame(f), skipped: (o, r) => sink.skipped(o, r), ended: (r) => sink.ended(r), status: (state) => void statuses.push(state) });
    await until('the end of the first run', () => statuses.includes('offline'));
    expect(sink.frames).toHaveLength(20);
    for (const [i, f] of sink.frames.entries()) {
      expect(f.i420!.data.length).toBe(160 * 120 * 1.5);
      expect(f.i420!.layout).toMatchObject({ width: 160, height: 120, yStride: 160, uvStride: 80 });
      expect([f.width, f.height, f.seq, f.camera, f.origin]).toEqual([160, 120, i, 'cam', 'testsrc2=size=320x240:rate=30:duration=2']);
    }
    expect(Buffer.from(sink.frames[0]!.i420!.data).equals(sink.frames.at(-1)!.i420!.data)).toBe(false); // testsrc2 moves
    expect(sink.frames[0]!.data.length).toBe(160 * 120 * 3);
    expect(sink.ends).toEqual([]);
    expect(src.counters()).toMatchObject({ captured: 20, restarts: 0 });
  });

  it('delivers full-range I420 that converts to RGB in R, G, B order at the requested size', async () => {
    const sink = new RecordingSink();
    const { src } = source({ input: 'color=c=red:size=64x48:rate=25', width: 8, height: 6, fps: 5 });
    await src.start(sink);
    await until('a frame', () => sink.frames.length > 0);
    const { data } = sink.frames[0]!;
    for (let i = 0; i < data.length; i += 3) {
      expect(data[i]).toBeGreaterThan(240);
      expect(data[i + 1]).toBeLessThan(15);
      expect(data[i + 2]).toBeLessThan(15);
    }
  });

  it('with a slow consumer behind a LatestFrameSlot, frames are dropped and every one is counted', async () => {
    const slot = new LatestFrameSlot();
    const { src } = source({ fps: 15 });
    await src.start({ frame: (f) => slot.put(f), skipped: () => {}, ended: () => {} });
    let taken = 0;
    const consumer = (async () => {
      for (let f = await slot.take(); f; f = await slot.take()) {
        taken++;
        await sleep(300); // a slow detector
      }
    })();
    await until('three frames taken and some dropped', () => taken >= 3 && slot.counters().dropped > 0);
    await src.stop();
    const pending = slot.hasPending ? 1 : 0;
    const c = slot.counters();
    expect(c.put).toBe(src.counters().captured);
    expect(c.put).toBe(c.taken + c.dropped + pending);
    slot.close();
    await consumer;
    const closed = slot.counters();
    expect(closed.put).toBe(closed.taken + closed.dropped);
    expect(taken).toBe(closed.taken);
  });

  it('stop() ends ffmpeg and leaves no process and no timer behind', async () => {
    const timers = trackSourceTimers();
    const sink = new RecordingSink();
    // ffmpeg honours SIGTERM: with the SIGKILL a minute away, the stop can only end in time by SIGTERM.
    const { src } = source({}, { killAfterMs: 60_000 });
    await src.start(sink);
    await until('a frame', () => sink.frames.length > 0);
    const pid = src.pid!;
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).not.toThrow();
    await src.stop();
    expectGone(pid);
    expect(src.pid).toBeUndefined();
    const count = sink.frames.length;
    await sleep(100);
    expect(sink.frames).toHaveLength(count);
    timers.dispose();
    expect(timers.live()).toEqual([]);
    expect(process.getActiveResourcesInfo()).not.toContain('ProcessWrap');
  });

  it('a bad input is logged and retried with growing backoff, without ending or crashing', async () => {
    const timers = trackSourceTimers();
    const sink = new RecordingSink();
    const { src, logs } = source({ input: path.join(tmp, 'no-such-video.mp4'), inputOptions: [] }, FAST);
    await src.start(sink);
    await until('3 restarts', () => src.counters().restarts >= 3);
    const exits = logs.filter((l) => l.msg === 'ffmpeg exited, restarting');
    expect(exits.slice(0, 3).map((l) => l.restartInMs)).toEqual([100, 200, 400]);
    expect(exits[0]!.reason).toMatch(/^ffmpeg exited with code \d+: .*No such file or directory/);
    expect(exits[0]!.level).toBe(40); // warn
    expect(sink.ends).toEqual([]);
    expect(sink.frames).toEqual([]);
    await until('the restart timer to be armed', () => src.pid === undefined);
    await src.stop();
    const restarts = src.counters().restarts;
    await sleep(600); // longer than the largest backoff
    expect(src.pid).toBeUndefined();
    expect(src.counters().restarts).toBe(restarts);
    timers.dispose();
    expect(timers.live()).toEqual([]);
  });

  it('a missing ffmpeg binary ends the source with a clear message and is not retried', async () => {
    const sink = new RecordingSink();
    const { src } = source({ ffmpegPath: '/nonexistent/bin/ffmpeg' }, FAST);
    await src.start(sink);
    await until('ended', () => sink.ends.length > 0);
    expect(sink.ends).toEqual(['ffmpeg not found at /nonexistent/bin/ffmpeg: install it (apt-get install ffmpeg)']);
    await sleep(300);
    expect(src.counters().restarts).toBe(0);
    expect(sink.ends).toHaveLength(1);
    await src.stop();
  });
});

describe('FfmpegSource with a fake ffmpeg', () => {
  it('cuts frames exactly, discards the partial frame at exit, restarts, and passes arguments without a shell', async () => {
    const ffmpegPath = fakeFfmpeg(
      'two-and-a-half-frames',
      `const out = Buffer.alloc(12 * 2 + 6).map((_, i) => i);
       process.stderr.write(JSON.stringify(process.argv.slice(2)) + '\\nboom\\n');
       process.stdout.write(out.subarray(0, 30), () => process.stdout.write(out.subarray(30), () => process.exit(3)));`,
    );
    const input = "/tmp/my camera $(touch /tmp/pwned) 'x'.mp4";
    const options = { input, inputOptions: ['-re'], width: 4, height: 2, fps: 5, ffmpegPath };
    const sink = new RecordingSink();
    const { src, logs } = source(options, FAST);
    await src.start(sink);
    await until('second run', () => sink.frames.length >= 4);
    // 4x2 I420: 8 bytes of luma and 2 of each chroma plane a frame.
    expect(sink.frames.slice(0, 4).map((f) => [...f.i420!.data])).toEqual([0, 12, 0, 12].map((start) => Array.from({ length: 12 }, (_, i) => start + i)));
    expect(sink.frames.map((f) => f.seq).slice(0, 4)).toEqual([0, 1, 2, 3]);
    const exit = logs.find((l) => l.msg === 'ffmpeg exited, restarting')!;
    expect(exit.reason).toBe('ffmpeg exited with code 3: boom');
    const argv = logs.find((l) => l.msg === 'ffmpeg says')!.stderr as string;
    expect(JSON.parse(argv)).toEqual(ffmpegArgs(options));
    expect(ffmpegArgs(options)).toContain(input);
    expect(src.counters().restarts).toBeGreaterThanOrEqual(1);
  });

  it('SIGKILLs an ffmpeg that ignores SIGTERM', async () => {
    // Says when SIGTERM is ignored, then sleeps past the test's timeout: only the SIGKILL can end the stop.
    const ffmpegPath = fakeFfmpeg('deaf', "trap '' TERM\necho deaf >&2\nexec sleep 600", '/bin/sh');
    const { src, logs } = source({ ffmpegPath }, { ...FAST, killAfterMs: 300 });
    await src.start(new RecordingSink());
    await until('SIGTERM to be ignored', () => logs.some((l) => l.msg === 'ffmpeg says' && l.stderr === 'deaf'));
    const pid = src.pid!;
    const started = performance.now();
    await src.stop();
    expect(performance.now() - started).toBeGreaterThanOrEqual(250); // it waited killAfterMs first
    expectGone(pid);
  });

  it('kills and restarts an ffmpeg that stalls without frames', async () => {
    const ffmpegPath = fakeFfmpeg('stalled', 'exec sleep 5', '/bin/sh');
    const { src, logs } = source({ ffmpegPath, fps: 100 }, { ...FAST, stallAfterMs: 300 });
    await src.start(new RecordingSink());
    const firstPid = src.pid!;
    await until('a restart', () => src.counters().restarts >= 1);
    expect(logs.some((l) => l.msg === 'no frames from ffmpeg, killing it')).toBe(true);
    expectGone(firstPid);
    expect(src.pid).not.toBe(firstPid);
  });
});

describe('ffmpegArgs', () => {
  it('puts input options before -i and asks for fixed-size full-range I420 on stdout', () => {
    expect(ffmpegArgs(TESTSRC)).toEqual([
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', TESTSRC.input],
      ...['-an', '-sn', '-dn', '-vf', 'fps=10,scale=160:120:flags=bilinear:out_range=full', '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'],
    ]);
  });
});
