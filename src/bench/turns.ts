import type { ProcessSample } from '../stats/process-stats.js';
import type { PipelineGroup, WindowResult } from './pipeline-group.js';
import type { TurnsPlan } from './plan.js';
import type { RawHost, RawSlice } from './raw-loop.js';

/** Raw and pipeline slices of one run in turns. */
export interface Turns {
  /** One more than the windows: raw slice i and i+1 bracket pipeline window i. */
  rawSlices: RawSlice[];
  windows: WindowResult[];
  rssAfterWarmupMb: number;
  /** Frames the pipeline processed in its warm-up (nothing of them is measured). */
  warmupFrames: number;
  /** This process over the turns (CPU share, event-loop lag). */
  process: ProcessSample;
}

/** The first frames after a pause start from an idle detector: each window starts this long after resuming. */
const MIN_SETTLE_MS = 30;
const SETTLE_FRAMES = 3;
/** A slice holds at least this many frames of a slow model (a ratio from a handful of frames is noise). */
const MIN_SLICE_FRAMES = 15;

/** The warm-up's turns: raw and pipeline, about a second each round, 40 % raw (as the measured rounds). */
const WARMUP_TURN_MS = 1000;
const RAW_WARMUP_SHARE = 0.4;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rssMb = (): number => process.memoryUsage().rss / 1048576;

/**
 * Warm-up of both, then raw and pipeline slices in turn, a raw slice first and last: each pipeline slice sits between
 * two raw ones, and its ratio is taken against them. Only the pipeline's steady state is measured: each slice starts
 * a few frames after the pipeline resumed.
 */
export async function runInTurns(raw: RawHost, group: PipelineGroup, plan: TurnsPlan, sampleProcess: () => ProcessSample): Promise<Turns> {
  await group.start();
  // The pipeline alone first (V8 compiles the daemon's hot code), then in turns with the raw loop, unmeasured: the
  // raw loop shares the host client with the pipeline, and its first calls deoptimize that code (other object
  // shapes). Without these turns the measured windows paid for the recompiles: ~8 % of the daemon's CPU.
  const aloneMs = plan.pipelineWarmupMs / 2;
  await sleep(aloneMs);
  for (let left = plan.pipelineWarmupMs - aloneMs; left > 0; left -= WARMUP_TURN_MS) {
    await group.pause();
    await raw.slice(Math.min(left, WARMUP_TURN_MS) * RAW_WARMUP_SHARE); // the measured slices' own code too
    group.resume();
    await sleep(Math.min(left, WARMUP_TURN_MS) * (1 - RAW_WARMUP_SHARE));
  }
  const warmupFrames = group.totals().processed;
  await group.pause();
  await raw.warm(plan.warmupMs);
  const rssAfterWarmupMb = rssMb();
  sampleProcess();
  const rawSlices: RawSlice[] = [await raw.slice(plan.rawSliceMs)];
  const windows: WindowResult[] = [];
  for (let i = 0; i < plan.rounds; i++) {
    group.resume();
    // Settle: the first frames after a pause start from an idle detector.
    const settleMs = Math.max(MIN_SETTLE_MS, SETTLE_FRAMES * meanOf(rawSlices[rawSlices.length - 1]!.hostMs));
    await sleep(settleMs);
    const w = group.window();
    await sleep(Math.max(plan.pipelineSliceMs, MIN_SLICE_FRAMES * meanOf(rawSlices[rawSlices.length - 1]!.hostMs)));
    windows.push(w.end());
    await group.pause();
    rawSlices.push(await raw.slice(plan.rawSliceMs, MIN_SLICE_FRAMES));
  }
  return { rawSlices, windows, rssAfterWarmupMb, warmupFrames, process: sampleProcess() };
}

const meanOf = (v: readonly number[]): number => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);
