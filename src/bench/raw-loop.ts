import { performance } from 'node:perf_hooks';
import { HostProcess } from '../inference/host/host-process.js';
import type { DelegateSpec } from '../inference/host/protocol.js';
import type { PhaseTime } from './plan.js';
import { cpuMsOf } from './proc-stat.js';
import { fpsFromMeanMs, fpsOver, summarize, type Summary } from './stats.js';

export interface RawLoopOptions {
  modelPath: string;
  threads: number;
  delegate?: DelegateSpec;
  /**
   * Packed RGB inputs at the model's size, cycled through: the same pictures the pipeline sees, because an SSD's
   * post-processing (non-max suppression) costs more on a picture with more candidate boxes.
   */
  inputs: Uint8Array[];
  time: PhaseTime;
  loadTimeoutMs?: number;
  inferenceTimeoutMs?: number;
  /** Kills the host and ends the loop early (a stop while the daemon measures its thread count). */
  signal?: AbortSignal;
}

export interface RawResult {
  threads: number;
  /** 1000 / mean host-side inference time: how fast the runtime itself loops. */
  fps: number;
  /** Host-side inference time (the runtime's invoke alone). */
  inferenceMs: Summary;
  /** Requests a second seen from this process, one at a time (the process hop included). */
  roundTripFps: number;
  roundTripMs: Summary;
  loadMs: number;
}

/** One measured stretch of back-to-back inferences, with the CPU the host process used meanwhile. */
export interface RawSlice {
  frames: number;
  elapsedMs: number;
  /** Host-side inference times, one per frame. */
  hostMs: number[];
  tripMs: number[];
  /** CPU time of the inference host over the slice (its /proc stat: 10 ms ticks), undefined where unreadable. */
  hostCpuMs: number | undefined;
}

/** Measured inferences are at least this many, however long each takes (4 threads on 2 cores can take a second). */
const MIN_SAMPLES = 3;

/**
 * The model alone in the same kind of host process the daemon uses, fed the given inputs back to back: the limit
 * the pipeline is measured against. Loaded once, it can be measured in several slices (the bench interleaves them
 * with the pipeline's, so that a machine's changing load hits both alike).
 */
export class RawHost {
  private readonly host = new HostProcess();
  private n = 0;
  loadMs = 0;

  constructor(private readonly opts: Omit<RawLoopOptions, 'time'>) {}

  get pid(): number | undefined {
    return this.host.pid;
  }

  async load(): Promise<void> {
    const { opts, host } = this;
    host.start();
    const loadStarted = performance.now();
    try {
      await host.load({ modelPath: opts.modelPath, threads: opts.threads, ...(opts.delegate ? { delegate: opts.delegate } : {}) }, opts.loadTimeoutMs ?? 30_000);
    } catch (err) {
      const tail = host.stderr().slice(-2).join(' | ');
      throw new Error(`cannot load ${opts.modelPath}: ${(err as Error).message}${tail && !(err as Error).message.includes(tail) ? ` (${tail})` : ''}`);
    }
    this.loadMs = Math.round(performance.now() - loadStarted);
  }

  /** Inferences for `ms`, none counted (the first ones are slower). At least one. */
  async warm(ms: number): Promise<void> {
    const end = performance.now() + ms;
    do await this.infer();
    while (performance.now() < end);
  }

  /** Inferences back to back for `ms` (at least MIN_SAMPLES), measured. */
  async slice(ms: number, minSamples = MIN_SAMPLES): Promise<RawSlice> {
    const hostMs: number[] = [];
    const tripMs: number[] = [];
    const pid = this.host.pid;
    const cpuBefore = pid ? cpuMsOf(pid) : undefined;
    const started = performance.now();
    const end = started + ms;
    while (performance.now() < end || hostMs.length < minSamples) {
      const t0 = performance.now();
      const reply = await this.infer();
      tripMs.push(performance.now() - t0);
      hostMs.push(reply.inferenceMs);
    }
    const elapsedMs = performance.now() - started;
    const cpuAfter = pid ? cpuMsOf(pid) : undefined;
    return { frames: hostMs.length, elapsedMs, hostMs, tripMs, hostCpuMs: cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined };
  }

  stop(): Promise<void> {
    return this.host.stop();
  }

  /** Kills the host at once (an abort). */
  kill(): void {
    void this.host.stop(0);
  }

  private infer(): ReturnType<HostProcess['infer']> {
    const input = this.opts.inputs[this.n++ % this.opts.inputs.length]!;
    return this.host.infer(input, this.opts.inferenceTimeoutMs ?? 30_000);
  }
}

/** The result of one or more slices of the same host. */
export function rawResult(threads: number, loadMs: number, slices: readonly RawSlice[]): RawResult {
  const hostMs = slices.flatMap((s) => s.hostMs);
  const tripMs = slices.flatMap((s) => s.tripMs);
  const elapsed = slices.reduce((a, s) => a + s.elapsedMs, 0);
  const mean = hostMs.length > 0 ? hostMs.reduce((a, b) => a + b, 0) / hostMs.length : 0;
  return {
    threads,
    fps: fpsFromMeanMs(mean),
    inferenceMs: summarize(hostMs),
    roundTripFps: fpsOver(tripMs.length, elapsed),
    roundTripMs: summarize(tripMs),
    loadMs,
  };
}

/** One warm-up and one measured slice in a host of its own, always stopped, whatever happens. */
export async function runRawLoop(opts: RawLoopOptions): Promise<RawResult> {
  const raw = new RawHost(opts);
  const abort = (): void => raw.kill();
  opts.signal?.addEventListener('abort', abort, { once: true });
  try {
    await raw.load();
    await raw.warm(opts.time.warmupMs);
    const slice = await raw.slice(opts.time.measureMs);
    return rawResult(opts.threads, raw.loadMs, [slice]);
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    await raw.stop();
  }
}
