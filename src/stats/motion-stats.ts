import { LatencyWindow, type LatencySummary } from './latency-window.js';

/** One camera's motion gating, counted since the start. */
export interface MotionCounters {
  /** Frames motion was computed on (the frames the pipeline took). */
  frames: number;
  /** Of those, frames where something moved. */
  framesWithMotion: number;
  /** Frames the detector ran on (each one published on the detections topic). */
  detectorRuns: number;
  /** Inferences those runs cost (one per region; a whole frame is one). */
  inferences: number;
  /** Frames not detected: nothing moved and nothing was due. */
  skipped: number;
}

export interface MotionStatsSnapshot {
  fps: { withMotion: number; detectorRuns: number; skipped: number };
  totals: MotionCounters;
  /** Inferences per detector run over the interval (1: whole frames only); null without runs. */
  regionsPerRun: number | null;
  /** The motion detector's own time per frame over the interval. */
  motionMs: LatencySummary;
}

/** Counters and the motion detector's time per frame; `snapshot` closes an interval. */
export class MotionStats {
  readonly totals: MotionCounters = { frames: 0, framesWithMotion: 0, detectorRuns: 0, inferences: 0, skipped: 0 };
  private last: MotionCounters = { ...this.totals };
  private readonly motionMs = new LatencyWindow();

  recordMotionMs(ms: number): void {
    this.motionMs.add(ms);
  }

  snapshot(intervalSec: number): MotionStatsSnapshot {
    const per = (k: keyof MotionCounters): number => Math.round(((this.totals[k] - this.last[k]) / intervalSec) * 100) / 100;
    const runs = this.totals.detectorRuns - this.last.detectorRuns;
    const inferences = this.totals.inferences - this.last.inferences;
    const snap: MotionStatsSnapshot = {
      fps: { withMotion: per('framesWithMotion'), detectorRuns: per('detectorRuns'), skipped: per('skipped') },
      totals: { ...this.totals },
      regionsPerRun: runs > 0 ? Math.round((inferences / runs) * 100) / 100 : null,
      motionMs: this.motionMs.summary(),
    };
    this.last = { ...this.totals };
    this.motionMs.reset();
    return snap;
  }
}
