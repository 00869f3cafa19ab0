import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FfmpegSource, type FfmpegSourceOptions } from '../../src/camera/ffmpeg-source.js';
import type { CameraState, FrameSink } from '../../src/camera/frame.js';
import { until as waitUntil } from '../helpers/wait.js';

/** The camera state the ffmpeg source reports through the shared SupervisedProcess (same calls as rpicam). */
const tmp = mkdtempSync(path.join(tmpdir(), 'camera-ffmpeg-status-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const OPTIONS: FfmpegSourceOptions = { input: 'testsrc2=size=160x120:rate=20', inputOptions: ['-re', '-f', 'lavfi'], width: 80, height: 60, fps: 10 };
const FAST = { backoffMinMs: 50, backoffMaxMs: 200, killAfterMs: 300 };

/** `until` with the camera suites' argument order: what first; the timeout only bounds a failing test on a loaded machine. */
const until = (what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> => waitUntil(done, timeoutMs, what, 10);

function recorder(): FrameSink & { frames: number; statuses: string[]; ends: string[] } {
  const r = {
    frames: 0,
    statuses: [] as string[],
    ends: [] as string[],
    frame: () => void r.frames++,
    skipped: () => {},
    ended: (reason: string) => void r.ends.push(reason),
    status: (state: CameraState, reason: string) => void r.statuses.push(`${state}: ${reason}`),
  };
  return r;
}

const sources: FfmpegSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
});
function source(options: Partial<FfmpegSourceOptions>, timing = {}): FfmpegSource {
  const src = new FfmpegSource('cam', { ...OPTIONS, ...options }, pino({ level: 'silent' }), { ...FAST, ...timing });
  sources.push(src);
  return src;
}

describe('FfmpegSource status', () => {
  it('is online once frames flow and offline after stop', async () => {
    const sink = recorder();
    const src = source({});
    await src.start(sink);
    await until('frames', () => sink.frames >= 2);
    await src.stop();
    expect(sink.statuses).toEqual(['online: frames flowing', 'offline: source stopped']);
    expect(src.counters()).toMatchObject({ restarts: 0, stalls: 0 });
  });

  it('counts a stall, reports offline with the reason, and is online again after the restart', async () => {
    // Two frames, then silence: the stall watchdog must kill it; the next run streams.
    const counter = path.join(tmp, 'runs');
    const ffmpegPath = path.join(tmp, 'stalling-ffmpeg');
    writeFileSync(
      ffmpegPath,
      `#!/bin/sh
echo run >> ${counter}
if [ "$(wc -l < ${counter})" -eq 1 ]; then
  head -c ${80 * 60 * 1.5 * 2} /dev/zero
  exec sleep 30
fi
exec ffmpeg "$@"
`,
    );
    chmodSync(ffmpegPath, 0o755);
    const sink = recorder();
    // The stall limit also bounds the second run's start-up, the first frame of a real ffmpeg: that took ~0.45 s here
    // under load, so the limit is generous.
    const src = source({ ffmpegPath }, { stallAfterMs: 3_000 });
    await src.start(sink);
    await until('frames after the restart', () => sink.frames >= 4 && src.counters().restarts >= 1);
    expect(src.counters()).toMatchObject({ stalls: 1, restarts: 1 });
    expect(sink.statuses).toEqual(['online: frames flowing', expect.stringMatching(/^offline: ffmpeg stalled: no frame for \d+(\.\d)? s$/), 'online: frames flowing']);
  });

  it('says error when it gives up on a missing binary', async () => {
    const sink = recorder();
    const src = source({ ffmpegPath: path.join(tmp, 'no-ffmpeg') });
    await src.start(sink);
    await until('ended', () => sink.ends.length > 0);
    expect(sink.statuses).toEqual([`error: ${sink.ends[0]}`]);
    expect(sink.ends[0]).toMatch(/^ffmpeg not found at .*no-ffmpeg: install it/);
  });

  it("never lets the input's password out: not in statuses, log lines (any level), arguments, stderr or frame origins", async () => {
    const input = 'rtsp://user:p@ss w%40rd@127.0.0.1:1/x';
    // Quotes its input every way a program might: as given, percent-decoded, JSON-escaped, in an error line.
    const ffmpegPath = path.join(tmp, 'talkative-ffmpeg');
    writeFileSync(
      ffmpegPath,
      `#!${process.execPath}
const args = process.argv.slice(2);
const input = args[args.indexOf('-i') + 1];
process.stdout.write(Buffer.alloc(12)); // one 4x2 I420 frame
for (const a of args) process.stderr.write(a + '\\n');
process.stderr.write(JSON.stringify(args) + '\\n' + decodeURIComponent(input) + '\\n');
process.stderr.write('[tcp @ 0x5581] Connection to ' + input + ' failed: Connection refused\\n');
process.stderr.write(input + ': Connection refused\\n');
setTimeout(() => process.exit(1), 50);
`,
    );
    chmodSync(ffmpegPath, 0o755);
    const lines: string[] = [];
    const frames: string[] = [];
    const sink = recorder();
    const src = new FfmpegSource(
      'cam',
      { input, inputOptions: [], width: 4, height: 2, fps: 5, ffmpegPath },
      pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) }),
      FAST,
    );
    sources.push(src);
    await src.start({ ...sink, frame: (f) => void frames.push(f.origin) });
    await until('two runs', () => src.counters().restarts >= 2 && frames.length >= 2);
    await src.stop();
    const texts = [...sink.statuses, ...sink.ends, ...frames, ...lines];
    expect(lines.some((l) => l.includes('ffmpeg says'))).toBe(true); // the stderr lines were logged
    expect(sink.statuses).toContain('offline: ffmpeg exited with code 1: rtsp://user:***@127.0.0.1:1/x: Connection refused');
    expect(frames[0]).toBe('rtsp://user:***@127.0.0.1:1/x');
    for (const secret of ['p@ss w%40rd', 'p@ss w@rd', 'p%40ss%20w%2540rd', 'ss w', 'w%40rd', 'w@rd']) {
      const leaks = texts.filter((t) => t.includes(secret));
      expect(leaks, `"${secret}" leaked`).toEqual([]);
    }
  });
});

