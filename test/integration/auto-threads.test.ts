import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseThreads, rawLoopMeasure, threadsKey } from '../../src/inference/auto-threads.js';
import { createLogger } from '../../src/system/logger.js';
import { V1_025 } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'auto-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logLines(): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

/** A measurement that answers from a table and counts its calls. */
function fakeMeasure(fps: Record<number, number>) {
  const calls: number[] = [];
  const measure = async (threads: number): Promise<number> => {
    calls.push(threads);
    return fps[threads] ?? 0;
  };
  return { measure, calls };
}

describe('detector.threads 0 (measured once)', () => {
  it('measures every candidate once, keeps the fastest, and reuses it at the next start', async () => {
    const model = join(dir, 'm1.tflite');
    copyFileSync(V1_025, model);
    const cache = join(dir, 'state', 'cpu-threads.json');
    const first = fakeMeasure({ 1: 20, 2: 31, 3: 30.5, 4: 12 });
    const { log, lines } = logLines();
    expect(await chooseThreads(model, cache, first.measure, log, 2)).toMatchObject({ threads: 2, how: 'measured' });
    expect(first.calls).toEqual([1, 2, 3, 4]);
    expect(lines.at(-1)!.msg).toBe('CPU threads: 2 threads (1: 20 fps, 2: 31 fps, 3: 30.5 fps, 4: 12 fps)');
    const kept = JSON.parse(readFileSync(cache, 'utf8'));
    expect(kept[threadsKey(model)]).toMatchObject({ threads: 2, points: [{ threads: 1, fps: 20 }, { threads: 2, fps: 31 }, { threads: 3, fps: 30.5 }, { threads: 4, fps: 12 }] });

    const again = fakeMeasure({});
    expect(await chooseThreads(model, cache, again.measure, log, 2)).toMatchObject({ threads: 2, how: 'cached' });
    expect(again.calls).toEqual([]);
  });

  it('measures again when the model file changes, and keeps other models measurements', async () => {
    const a = join(dir, 'a.tflite');
    const b = join(dir, 'b.tflite');
    copyFileSync(V1_025, a);
    copyFileSync(V1_025, b);
    const cache = join(dir, 'cache-2.json');
    const { log } = logLines();
    await chooseThreads(a, cache, fakeMeasure({ 1: 10, 2: 5 }).measure, log, 1);
    await chooseThreads(b, cache, fakeMeasure({ 1: 5, 2: 10 }).measure, log, 1);
    utimesSync(a, new Date(), new Date(Date.now() + 5000)); // a replaced by a newer file
    const remeasure = fakeMeasure({ 1: 3, 2: 9 });
    expect(await chooseThreads(a, cache, remeasure.measure, log, 1)).toMatchObject({ threads: 2, how: 'measured' });
    expect(remeasure.calls).toEqual([1, 2]);
    expect(await chooseThreads(b, cache, fakeMeasure({}).measure, log, 1)).toMatchObject({ threads: 2, how: 'cached' });
  });

  it('prefers fewer threads on a tie, measures again over a damaged cache, and falls back to 1 when measuring fails', async () => {
    const model = join(dir, 'm3.tflite');
    copyFileSync(V1_025, model);
    const cache = join(dir, 'damaged.json');
    writeFileSync(cache, '{ not json');
    const { log, lines } = logLines();
    expect(await chooseThreads(model, cache, fakeMeasure({ 1: 15, 2: 15 }).measure, log, 1)).toMatchObject({ threads: 1, how: 'measured' });
    const failing = async (): Promise<number> => {
      throw new Error('cannot load model');
    };
    expect(await chooseThreads(join(dir, 'm3-copy.tflite'), null, failing, log, 1)).toEqual({ threads: 1, how: 'fallback' }); // no such file
    copyFileSync(V1_025, join(dir, 'm3-copy.tflite'));
    expect(await chooseThreads(join(dir, 'm3-copy.tflite'), null, failing, log, 1)).toEqual({ threads: 1, how: 'fallback' });
    expect(lines.at(-1)).toMatchObject({ level: 40, err: 'cannot load model', msg: 'CPU threads: measuring failed; using 1 thread' });
  });

  it('without a state directory measures each time and writes nothing', async () => {
    const model = join(dir, 'm4.tflite');
    copyFileSync(V1_025, model);
    const { log } = logLines();
    const m = fakeMeasure({ 1: 1, 2: 2 });
    await chooseThreads(model, null, m.measure, log, 1);
    await chooseThreads(model, null, m.measure, log, 1);
    expect(m.calls).toEqual([1, 2, 1, 2]);
  });

  it('measures the real runtime in an inference process', async () => {
    const fps = await rawLoopMeasure(V1_025, 128 * 128 * 3)(1);
    // A real figure: MobileNet v1 0.25-128 runs at ~300 fps on an idle core here, 38-55 with the machine loaded (the
    // bench's raw loop, the same measure), so how fast is not the claim (it was "> 20"). The bounds catch nothing
    // measured (0 or NaN) and a rate off by 1000 (per ms, or ms for s); ms mistaken for fps is the arithmetic's
    // unit test (fpsFromMeanMs in bench-stats.test.ts): under load both are near 30.
    expect(fps).toBeGreaterThan(1);
    expect(fps).toBeLessThan(10_000);
  }, 60_000); // a host started from source (2-5 s on a loaded machine), then the measurement
});
