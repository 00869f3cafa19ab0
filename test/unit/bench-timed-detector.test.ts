import { describe, expect, it } from 'vitest';
import type { Detector } from '../../src/inference/detector.js';
import { TimedDetector } from '../../src/bench/timed-detector.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Answers one request at a time, `ms` each, like an inference host. */
function fakeDetector(ms: number): Detector & { calls: number } {
  let chain: Promise<void> = Promise.resolve();
  const d = {
    calls: 0,
    backend: 'cpu' as const,
    model: { name: 'fake.tflite', path: '/fake.tflite', kind: 'ssd' as const, inputWidth: 8, inputHeight: 8 },
    start: async () => undefined,
    stop: async () => undefined,
    detect: async () => {
      d.calls++;
      const run = chain.then(() => sleep(ms));
      chain = run;
      await run;
      return { results: [], inferenceMs: ms, backend: 'cpu' as const };
    },
  };
  return d;
}

describe('TimedDetector', () => {
  it('passes through, and measures the period between answers and the idle gaps of a sequential caller', async () => {
    const inner = fakeDetector(20);
    const timed = new TimedDetector(inner);
    expect(timed.model.name).toBe('fake.tflite');
    expect(timed.backend).toBe('cpu');
    await timed.detect(new Uint8Array(1)); // warm-up: not counted
    timed.begin();
    for (let i = 0; i < 4; i++) {
      await sleep(10); // the "pipeline" preparing the next frame
      await timed.detect(new Uint8Array(1));
    }
    timed.end();
    await timed.detect(new Uint8Array(1)); // after the end: not counted
    expect(inner.calls).toBe(6);
    const period = timed.periodMs.summary();
    expect(period.count).toBe(4);
    expect(period.p50).toBeGreaterThanOrEqual(28);
    expect(period.p50).toBeLessThan(80);
    const idle = timed.idleMs.summary();
    expect(idle.count).toBe(4);
    expect(idle.p50).toBeGreaterThanOrEqual(8);
    expect(idle.p50).toBeLessThan(60);
  });

  it('counts no idle time when the next request is queued before the answer (a prefetching pipeline)', async () => {
    const timed = new TimedDetector(fakeDetector(15));
    await timed.detect(new Uint8Array(1));
    timed.begin();
    let previous = timed.detect(new Uint8Array(1));
    for (let i = 0; i < 4; i++) {
      await sleep(5);
      const next = timed.detect(new Uint8Array(1));
      await previous;
      previous = next;
    }
    await previous;
    timed.end();
    // Only the first request (nothing in flight yet) can find the detector idle, and only briefly.
    const idle = timed.idleMs.summary();
    expect(idle).toMatchObject({ count: 5, p50: 0 });
    expect(idle.max).toBeLessThan(5);
    expect(timed.periodMs.summary().count).toBe(5);
  });
});
