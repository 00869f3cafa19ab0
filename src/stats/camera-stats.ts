import { LatencyWindow, type LatencySummary } from './latency-window.js';
import type { MotionStatsSnapshot } from './motion-stats.js';

export const STAGES = ['capture', 'preprocess', 'inference', 'postprocess', 'total'] as const;
export type Stage = (typeof STAGES)[number];
export type StageTimes = Record<Stage, number>;

export interface CameraCounters {
  captured: number;
  processed: number;
  /** Frames replaced in the latest-frame slot before inference could take them (capture outran inference or detect.fps). */
  dropped: number;
  /** Frames the source could not decode. */
  skipped: number;
  /** Frames whose preprocessing or inference failed. */
  errors: number;
  /** Times the camera process (ffmpeg, rpicam-vid) was restarted. */
  restarts: number;
  /** Times the camera went silent and was restarted by the stall watchdog. */
  stalls: number;
}

export interface CameraStatsSnapshot {
  fps: { captured: number; processed: number; dropped: number };
  totals: CameraCounters;
  latencyMs: Record<Stage, LatencySummary>;
  /** Motion gating, when the camera has it (cameras.<name>.motion.enabled). */
  motion?: MotionStatsSnapshot;
}

/** The last few frames' latencies, for a live view between stats intervals (which may be a minute apart). */
const RECENT = 32;

/** Counters and per-stage latency of one camera; `snapshot` closes an interval, `recent` never does. */
export class CameraStats {
  readonly totals: CameraCounters = { captured: 0, processed: 0, dropped: 0, skipped: 0, errors: 0, restarts: 0, stalls: 0 };
  private readonly windows = Object.fromEntries(STAGES.map((s) => [s, new LatencyWindow()])) as Record<Stage, LatencyWindow>;
  private last: CameraCounters = { ...this.totals };
  private readonly recentInference = new Float64Array(RECENT);
  private readonly recentTotal = new Float64Array(RECENT);
  private recentCount = 0;

  recordProcessed(times: StageTimes): void {
    this.totals.processed++;
    for (const s of STAGES) this.windows[s].add(times[s]);
    const i = this.recentCount++ % RECENT;
    this.recentInference[i] = times.inference;
    this.recentTotal[i] = times.total;
  }

  /** Median inference and end-to-end latency of the last frames (up to 32), without closing the interval. */
  recent(): { frames: number; inferenceMs: number | null; totalMs: number | null } {
    const n = Math.min(this.recentCount, RECENT);
    const median = (xs: Float64Array): number | null => {
      if (n === 0) return null;
      const sorted = xs.slice(0, n).sort();
      return Math.round(sorted[(n - 1) >> 1]! * 100) / 100;
    };
    return { frames: n, inferenceMs: median(this.recentInference), totalMs: median(this.recentTotal) };
  }

  snapshot(intervalSec: number): CameraStatsSnapshot {
    const per = (k: keyof CameraCounters): number => Math.round(((this.totals[k] - this.last[k]) / intervalSec) * 100) / 100;
    const snap: CameraStatsSnapshot = {
      fps: { captured: per('captured'), processed: per('processed'), dropped: per('dropped') },
      totals: { ...this.totals },
      latencyMs: Object.fromEntries(STAGES.map((s) => [s, this.windows[s].summary()])) as Record<Stage, LatencySummary>,
    };
    this.last = { ...this.totals };
    for (const s of STAGES) this.windows[s].reset();
    return snap;
  }
}
