/** How `--seconds` is shared between the bench phases. */

export interface PhaseTime {
  /** Run but not measured: the first inferences (allocation, caches, the TPU's first load) are slower. */
  warmupMs: number;
  measureMs: number;
}

export interface BenchPlan {
  /** One entry per thread count tried (one without a sweep). */
  raw: PhaseTime[];
  synthetic: PhaseTime;
  jpeg: PhaseTime;
}

const SHARES = { raw: 0.3, synthetic: 0.4, jpeg: 0.3 };
const MAX_WARMUP_MS = 1000;

/** A phase of `ms`: about a second of warm-up, less when the phase is short (a quarter at most). */
export function phaseTime(ms: number): PhaseTime {
  const warmupMs = Math.round(Math.min(MAX_WARMUP_MS, ms * 0.25));
  return { warmupMs, measureMs: Math.round(ms - warmupMs) };
}

/** Raw 30 %, synthetic pipeline 40 %, JPEG pipeline 30 %; a sweep splits the raw share between its thread counts. */
export function planBench(seconds: number, rawRuns = 1): BenchPlan {
  const total = seconds * 1000;
  const rawEach = (total * SHARES.raw) / Math.max(1, rawRuns);
  return {
    raw: Array.from({ length: Math.max(1, rawRuns) }, () => phaseTime(rawEach)),
    synthetic: phaseTime(total * SHARES.synthetic),
    jpeg: phaseTime(total * SHARES.jpeg),
  };
}
