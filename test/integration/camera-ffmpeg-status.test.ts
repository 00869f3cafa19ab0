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

/** `until` with the camera suites' argument order: what first, 8 s by default. */
const until = (what: string, done: () => boolean, timeoutMs = 8_000): Promise<void> => waitUntil(done, timeoutMs, what, 10);

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
    const src = source({ ffmpegPath }, { stallAfterMs: 400 });
    await src.start(sink);
    await until('frames after the restart', () => sink.frames >= 4 && src.counters().restarts >= 1);
    expect(src.counters()).toMatchObject({ stalls: 1, restarts: 1 });
    expect(sink.statuses).toEqual(['online: frames flowing', expect.stringMatching(/^offline: ffmpeg stalled: no frame for 0\.\d s$/), 'online: frames flowing']);
  });

  it('says error when it gives up on a missing binary', async () => {
    const sink = recorder();
    const src = source({ ffmpegPath: path.join(tmp, 'no-ffmpeg') });
    await src.start(sink);
    await until('ended', () => sink.ends.length > 0);
    expect(sink.statuses).toEqual([`error: ${sink.ends[0]}`]);
    expect(sink.ends[0]).toMatch(/^ffmpeg not found at .*no-ffmpeg: install it/);
  });
});
