import { LatencyWindow, type LatencySummary } from './latency-window.js';

/** What the classify stage reports, per classifier. */
export interface ClassifierMeter {
  /** One crop classified: crop, resize, the trip to the inference host and back, and the runtime's own time. */
  recordCrop(classifier: string, ms: number, runtimeMs: number): void;
  recordCropError(classifier: string): void;
  /** One frame that had detections for this classifier: how many were classified and how many left over maxCrops. */
  recordFrame(classifier: string, crops: number, skipped: number): void;
}

export interface ClassifierStatsSnapshot {
  crops: number;
  errors: number;
  /** Detections left without a sub-label because the frame had more than maxCrops of them. */
  skipped: number;
  /** Frames that had at least one detection for this classifier. */
  frames: number;
  /** Crops per such frame over the interval (mean). */
  cropsPerFrame: number;
  /** Per crop, from crop to answer. */
  cropMs: LatencySummary;
  /** The runtime's own time per crop. */
  inferenceMs: LatencySummary;
}

interface One {
  crops: number;
  errors: number;
  skipped: number;
  frames: number;
  framesInterval: number;
  cropsInterval: number;
  cropMs: LatencyWindow;
  inferenceMs: LatencyWindow;
}

/** Cumulative counters and per-interval latencies of every classifier, for the stats topic. */
export class ClassifierStats implements ClassifierMeter {
  private readonly by = new Map<string, One>();

  constructor(private readonly forward?: ClassifierMeter) {}

  recordCrop(classifier: string, ms: number, runtimeMs: number): void {
    const c = this.get(classifier);
    c.crops++;
    c.cropsInterval++;
    c.cropMs.add(ms);
    c.inferenceMs.add(runtimeMs);
    this.forward?.recordCrop(classifier, ms, runtimeMs);
  }

  recordCropError(classifier: string): void {
    this.get(classifier).errors++;
    this.forward?.recordCropError(classifier);
  }

  recordFrame(classifier: string, crops: number, skipped: number): void {
    const c = this.get(classifier);
    c.frames++;
    c.framesInterval++;
    c.skipped += skipped;
    this.forward?.recordFrame(classifier, crops, skipped);
  }

  /** Closes an interval: counters are cumulative, latencies and crops per frame are the interval's. */
  snapshot(names: string[]): Record<string, ClassifierStatsSnapshot> {
    const out: Record<string, ClassifierStatsSnapshot> = {};
    for (const name of names) {
      const c = this.get(name);
      out[name] = {
        crops: c.crops,
        errors: c.errors,
        skipped: c.skipped,
        frames: c.frames,
        cropsPerFrame: c.framesInterval === 0 ? 0 : Math.round((c.cropsInterval / c.framesInterval) * 100) / 100,
        cropMs: c.cropMs.summary(),
        inferenceMs: c.inferenceMs.summary(),
      };
      c.framesInterval = 0;
      c.cropsInterval = 0;
      c.cropMs.reset();
      c.inferenceMs.reset();
    }
    return out;
  }

  private get(name: string): One {
    let c = this.by.get(name);
    if (!c) {
      c = { crops: 0, errors: 0, skipped: 0, frames: 0, framesInterval: 0, cropsInterval: 0, cropMs: new LatencyWindow(1024), inferenceMs: new LatencyWindow(1024) };
      this.by.set(name, c);
    }
    return c;
  }
}
