/** Pure aggregation of bench samples: percentiles, rates, and the per-phase blocks of the report. */

export interface Summary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export const round = (v: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** Nearest-rank percentile of an ascending array (the same rule as LatencyWindow). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
}

/** Count, mean and percentiles of every sample (bench runs are short: no reservoir, nothing dropped). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { count: 0, mean: 0, p50: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    mean: round(sum / sorted.length),
    p50: round(percentile(sorted, 0.5)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted[sorted.length - 1]!),
  };
}

/** Frames a second the runtime sustains when each one takes `meanMs` (0 when nothing was measured). */
export function fpsFromMeanMs(meanMs: number): number {
  return meanMs > 0 ? round(1000 / meanMs, 1) : 0;
}

/** Frames a second over a wall-clock interval. */
export function fpsOver(frames: number, elapsedMs: number): number {
  return elapsedMs > 0 ? round((frames * 1000) / elapsedMs, 1) : 0;
}

/** pipeline fps / raw fps, the share of the runtime's limit the daemon path reaches. */
export function ratioOf(pipelineFps: number, rawFps: number): number {
  return rawFps > 0 ? round(pipelineFps / rawFps, 3) : 0;
}

/** What one frame costs the pipeline beyond the bare inference (preprocess, the process hop, postprocess). */
export function overheadOf(perFrameP50Ms: number, rawInferenceP50Ms: number): number {
  return round(perFrameP50Ms - rawInferenceP50Ms);
}

/** Growing list of samples that only keeps what arrives while measuring (warm-up samples are discarded). */
export class SampleSet {
  private readonly values: number[] = [];
  private measuring = false;

  /** From now on samples count; everything before is warm-up (kept with `clear` false: a measuring window resumes). */
  begin(clear = true): void {
    this.measuring = true;
    if (clear) this.values.length = 0;
  }

  end(): void {
    this.measuring = false;
  }

  add(v: number): void {
    if (this.measuring && Number.isFinite(v)) this.values.push(v);
  }

  get count(): number {
    return this.values.length;
  }

  /** The samples from index `from` on (those of one window, when its start count was kept). */
  since(from: number): readonly number[] {
    return this.values.slice(from);
  }

  summary(): Summary {
    return summarize(this.values);
  }
}
