/** How `--seconds` is shared between the bench phases. */

export interface PhaseTime {
  /** Run but not measured: the first inferences (allocation, caches, the TPU's first load) are slower. */
  warmupMs: number;
  measureMs: number;
}

/** Raw and pipeline measured in turns: `rounds` pipeline slices, each between two raw slices. */
export interface TurnsPlan {
  /** The pipeline's warm-up before anything is measured (on top of `--seconds`): see planBench. */
  pipelineWarmupMs: number;
  /** The raw host's warm-up (after the pipeline's). */
  warmupMs: number;
  rounds: number;
  rawSliceMs: number;
  pipelineSliceMs: number;
}

export interface BenchPlan {
  /** One entry per thread count tried by a sweep (none without). */
  sweep: PhaseTime[];
  turns: TurnsPlan;
  jpeg: PhaseTime;
}

const SHARES = { sweep: 0.2, jpeg: 0.25 };
const MAX_WARMUP_MS = 1000;
/** About a second a round: short enough for many rounds (a burst of load spoils one), long enough for many frames. */
const ROUND_MS = 1000;
const MIN_ROUNDS = 3;
const MAX_ROUNDS = 30;
/** Of the turns' measuring time: the raw slices' share (the pipeline's is the rest). */
const RAW_SHARE = 0.4;

/** A phase of `ms`: about a second of warm-up, less when the phase is short (a quarter at most). */
export function phaseTime(ms: number): PhaseTime {
  const warmupMs = Math.round(Math.min(MAX_WARMUP_MS, ms * 0.25));
  return { warmupMs, measureMs: Math.round(ms - warmupMs) };
}

/**
 * The pipeline's default warm-up: half of `--seconds`, 10 s at most. V8 compiles the daemon's hot code during its
 * first thousands of frames (and recompiles what a rare branch deoptimizes): measured here, the CPU per frame beyond
 * the runtime was 1.18 ms after 1 s of warm-up, 0.85 ms after 15 s and 0.75 ms after 90 s. A daemon runs for days:
 * its steady state is what a user pays.
 */
export function defaultWarmupSec(seconds: number): number {
  return Math.min(MAX_PIPELINE_WARMUP_SEC, seconds / 2);
}
const MAX_PIPELINE_WARMUP_SEC = 10;

/**
 * A sweep (when asked) 20 %, the JPEG run 25 %, the turns the rest: the raw host's warm-up of a tenth (a second at
 * most), then rounds of about a second, 40 % raw and 60 % pipeline. The pipeline's warm-up (`warmupSec`, default
 * defaultWarmupSec) comes on top, before the raw host's.
 */
export function planBench(seconds: number, sweepRuns = 0, warmupSec = defaultWarmupSec(seconds)): BenchPlan {
  const total = seconds * 1000;
  const sweepEach = sweepRuns > 0 ? (total * SHARES.sweep) / sweepRuns : 0;
  const turnsMs = total * (1 - SHARES.jpeg - (sweepRuns > 0 ? SHARES.sweep : 0));
  const warmupMs = Math.round(Math.min(MAX_WARMUP_MS, turnsMs * 0.1));
  const measureMs = turnsMs - warmupMs;
  const rounds = Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Math.round(measureMs / ROUND_MS)));
  return {
    sweep: Array.from({ length: sweepRuns }, () => phaseTime(sweepEach)),
    turns: {
      pipelineWarmupMs: Math.round(warmupSec * 1000),
      warmupMs,
      rounds,
      rawSliceMs: Math.round((measureMs * RAW_SHARE) / (rounds + 1)),
      pipelineSliceMs: Math.round((measureMs * (1 - RAW_SHARE)) / rounds),
    },
    jpeg: phaseTime(total * SHARES.jpeg),
  };
}
