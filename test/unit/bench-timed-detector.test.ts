import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Detector } from '../../src/inference/detector.js';
import { TimedDetector } from '../../src/bench/timed-detector.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A fake clock for the sleeps and for what TimedDetector reads (performance.now): the periods and idle gaps it
 * measures are then exactly the ones the test makes, however late a loaded machine would run real timers.
 */
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.spyOn(performance, 'now').mockImplementation(() => Date.now());
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

/** Runs `scenario` to its end, moving the fake clock as its timers come due. */
async function onFakeClock(scenario: () => Promise<void>): Promise<void> {
  const done = scenario();
  await vi.runAllTimersAsync();
  await done;
}

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
    await onFakeClock(async () => {
      await timed.detect(new Uint8Array(1)); // warm-up: not counted
      timed.begin();
      for (let i = 0; i < 4; i++) {
        await sleep(10); // the "pipeline" preparing the next frame
        await timed.detect(new Uint8Array(1));
      }
      timed.end();
      await timed.detect(new Uint8Array(1)); // after the end: not counted
    });
    expect(inner.calls).toBe(6);
    // 10 ms of preparing plus 20 ms of inference a frame; the detector idles for the 10 ms.
    expect(timed.periodMs.summary()).toMatchObject({ count: 4, p50: 30, max: 30 });
    expect(timed.idleMs.summary()).toMatchObject({ count: 4, p50: 10, max: 10 });
  });

  it('counts no idle time when the next request is queued before the answer (a prefetching pipeline)', async () => {
    const timed = new TimedDetector(fakeDetector(15));
    await onFakeClock(async () => {
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
    });
    // Only the first request (nothing in flight yet) could find the detector idle: it comes right after the warm-up.
    expect(timed.idleMs.summary()).toMatchObject({ count: 5, p50: 0, max: 0 });
    // The detector never waits: an answer every 15 ms.
    expect(timed.periodMs.summary()).toMatchObject({ count: 5, p50: 15, max: 15 });
  });

  it('counts the time detect() takes before it returns its promise as handing the frame over, not the wait', async () => {
    const inner = fakeDetector(15);
    const timed = new TimedDetector({
      ...inner,
      detect: (input) => {
        vi.advanceTimersByTime(2); // the synchronous write to the host
        return inner.detect(input);
      },
    });
    timed.begin();
    await onFakeClock(async () => {
      for (let i = 0; i < 3; i++) await timed.detect(new Uint8Array(1));
    });
    expect(timed.handOverMs).toBe(6);
    expect(timed.periodMs.summary()).toMatchObject({ p50: 17 });
  });
});
