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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rssMb = (): number => process.memoryUsage().rss / 1048576;

/**
 * Warm-up of both, then raw and pipeline slices in turn, a raw slice first and last: each pipeline slice sits between
 * two raw ones, and its ratio is taken against them. Only the pipeline's steady state is measured: each slice starts
 * a few frames after the pipeline resumed.
 */
export async function runInTurns(raw: RawHost, group: PipelineGroup, plan: TurnsPlan, sampleProcess: () => ProcessSample): Promise<Turns> {
  await group.start();
  await sleep(plan.pipelineWarmupMs);
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
