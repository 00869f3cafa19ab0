import { performance } from 'node:perf_hooks';
import { HostProcess } from '../inference/host/host-process.js';
import type { DelegateSpec } from '../inference/host/protocol.js';
import type { PhaseTime } from './plan.js';
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

/** Measured inferences are at least this many, however long each takes (4 threads on 2 cores can take a second). */
const MIN_SAMPLES = 3;

/**
 * The limit: the model in the same kind of host process the daemon uses, fed the same inputs back to back. The
 * host is always stopped, whatever happens.
 */
export async function runRawLoop(opts: RawLoopOptions): Promise<RawResult> {
  const host = new HostProcess();
  host.start();
  const abort = (): void => void host.stop(0);
  opts.signal?.addEventListener('abort', abort, { once: true });
  try {
    const loadStarted = performance.now();
    try {
      await host.load(
        { modelPath: opts.modelPath, threads: opts.threads, ...(opts.delegate ? { delegate: opts.delegate } : {}) },
        opts.loadTimeoutMs ?? 30_000,
      );
    } catch (err) {
      const tail = host.stderr().slice(-2).join(' | ');
      throw new Error(`cannot load ${opts.modelPath}: ${(err as Error).message}${tail && !(err as Error).message.includes(tail) ? ` (${tail})` : ''}`);
    }
    const loadMs = performance.now() - loadStarted;
    const timeoutMs = opts.inferenceTimeoutMs ?? 30_000;

    // Warm-up: at least one inference, and the first ones are never counted.
    const warmEnd = performance.now() + opts.time.warmupMs;
    let n = 0;
    const next = (): Uint8Array => opts.inputs[n++ % opts.inputs.length]!;
    do await host.infer(next(), timeoutMs);
    while (performance.now() < warmEnd);

    const hostMs: number[] = [];
    const tripMs: number[] = [];
    const started = performance.now();
    const end = started + opts.time.measureMs;
    while (performance.now() < end || hostMs.length < MIN_SAMPLES) {
      const t0 = performance.now();
      const reply = await host.infer(next(), timeoutMs);
      tripMs.push(performance.now() - t0);
      hostMs.push(reply.inferenceMs);
    }
    const elapsed = performance.now() - started;
    const inferenceMs = summarize(hostMs);
    const mean = hostMs.reduce((a, b) => a + b, 0) / hostMs.length;
    return {
      threads: opts.threads,
      fps: fpsFromMeanMs(mean),
      inferenceMs,
      roundTripFps: fpsOver(tripMs.length, elapsed),
      roundTripMs: summarize(tripMs),
      loadMs: Math.round(loadMs),
    };
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    await host.stop();
  }
}
