import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Detector, DetectResult } from '../../src/inference/detector.js';
import { FailoverDetector, type DetectorState, type FailoverOptions } from '../../src/inference/failover-detector.js';
import { silentLogger } from '../../src/system/logger.js';

/** A detector whose behaviour the test flips: ok, or failing with a given message. */
class FakeDetector implements Detector {
  failWith: string | undefined;
  calls = 0;
  stopped = false;
  constructor(
    readonly backend: 'cpu' | 'edgetpu',
    readonly name: string,
  ) {}
  get model() {
    return { name: this.name, path: `/m/${this.name}`, kind: 'classification' as const, inputWidth: 4, inputHeight: 4 };
  }
  async start(): Promise<void> {
    if (this.failWith) throw new Error(this.failWith);
  }
  async detect(): Promise<DetectResult> {
    this.calls++;
    if (this.failWith) throw new Error(this.failWith);
    return { results: [{ label: this.name, classId: 0, score: 1 }], inferenceMs: 1, backend: this.backend };
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

function setup(over: Partial<FailoverOptions> = {}, devices = ['usb:0', 'usb:1']) {
  const made: Record<string, FakeDetector[]> = {};
  const broken = new Set<string>();
  const probes: { device: string; at: number }[] = [];
  const states: DetectorState[] = [];
  const cpu = new FakeDetector('cpu', 'cpu-twin');
  const detector = new FailoverDetector({
    mode: 'auto',
    devices,
    recoverIntervalSec: 0.04,
    makeTpu: (device) => {
      const d = new FakeDetector('edgetpu', `tpu-${device}`);
      if (broken.has(device)) d.failWith = `${device} is broken`;
      (made[device] ??= []).push(d);
      return d;
    },
    makeCpu: () => cpu,
    probe: async (device) => {
      probes.push({ device, at: Date.now() });
      return undefined;
    },
    onState: (s) => states.push(s),
    log: silentLogger(),
    ...over,
  });
  const input = new Uint8Array(48);
  const latest = (device: string) => made[device]![made[device]!.length - 1]!;
  return { detector, made, broken, probes, states, cpu, input, latest };
}

/**
 * The recovery probes run on timers: the tests that wait for them move a fake clock (Date included), so what they
 * see does not depend on how fast the machine is.
 */
const fakeClock = (): void => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
afterEach(() => void vi.useRealTimers());

describe('FailoverDetector', () => {
  it('spreads frames round-robin over healthy TPUs', async () => {
    const t = setup();
    await t.detector.start();
    const names = [];
    for (let i = 0; i < 4; i++) names.push((await t.detector.detect(t.input)).results[0]!.label);
    expect(names).toEqual(['tpu-usb:0', 'tpu-usb:1', 'tpu-usb:0', 'tpu-usb:1']);
    expect(t.detector.backend).toBe('edgetpu');
    await t.detector.stop();
  });

  it('fences a failing TPU, re-runs the frame on the other one, and keeps the backend on the TPUs', async () => {
    const t = setup();
    await t.detector.start();
    t.latest('usb:0').failWith = 'USB transfer error';
    const out = await t.detector.detect(t.input);
    expect(out.results[0]!.label).toBe('tpu-usb:1');
    expect(t.latest('usb:0').stopped).toBe(true);
    expect(t.detector.snapshot()).toMatchObject({ backend: 'edgetpu', failovers: 0, tpus: [{ device: 'usb:0', healthy: false, reason: 'USB transfer error' }, { device: 'usb:1', healthy: true }] });
    for (let i = 0; i < 3; i++) expect((await t.detector.detect(t.input)).results[0]!.label).toBe('tpu-usb:1');
    await t.detector.stop();
  });

  it('falls back to the CPU twin when the last TPU fails, with no frame lost, and comes back', async () => {
    fakeClock();
    const t = setup({}, ['usb']);
    await t.detector.start();
    t.latest('usb').failWith = 'inference host killed by SIGABRT';
    const out = await t.detector.detect(t.input);
    expect(out.backend).toBe('cpu');
    expect(t.states.at(-1)).toMatchObject({ backend: 'cpu', failovers: 1, recoveries: 0 });
    expect(t.states.at(-1)!.reason).toContain('SIGABRT');
    await vi.advanceTimersByTimeAsync(39);
    expect(t.states.at(-1)).toMatchObject({ backend: 'cpu', recoveries: 0 }); // not before one recoverInterval (40 ms)
    await vi.advanceTimersByTimeAsync(1);
    expect(t.states.at(-1)).toMatchObject({ backend: 'edgetpu', recoveries: 1, reason: 'Edge TPU recovered' });
    expect((await t.detector.detect(t.input)).backend).toBe('edgetpu');
    await t.detector.stop();
  });

  it('backs off when the TPU keeps failing its probe, instead of hammering it', async () => {
    fakeClock();
    const t = setup({}, ['usb']);
    t.broken.add('usb');
    await t.detector.start();
    expect(t.detector.backend).toBe('cpu');
    await vi.advanceTimersByTimeAsync(900);
    await t.detector.stop();
    const gaps = t.probes.slice(1).map((p, i) => p.at - t.probes[i]!.at);
    // The interval (40 ms) doubling after each failure; a fixed interval would have probed ~20 times.
    expect(gaps).toEqual([40, 80, 160, 320]);
  });

  it('mode edgetpu refuses to start without a working TPU, naming why', async () => {
    const t = setup({ mode: 'edgetpu', probe: async () => 'libedgetpu.so.1 not found' }, ['usb']);
    await expect(t.detector.start()).rejects.toThrow(/no Edge TPU could start \(usb: libedgetpu.so.1 not found\)/);
    expect(t.cpu.stopped).toBe(true);
  });

  it('without a CPU twin, a dead TPU means a clear error per frame, not a crash', async () => {
    const t = setup({ makeCpu: undefined }, ['usb']);
    await t.detector.start();
    t.latest('usb').failWith = 'gone';
    await expect(t.detector.detect(t.input)).rejects.toThrow(/no detector available: gone/);
    expect(t.states.at(-1)!.backend).toBe('none');
    await t.detector.stop();
  });
});
