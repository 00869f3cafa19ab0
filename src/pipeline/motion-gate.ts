import { performance } from 'node:perf_hooks';
import type { Frame } from '../camera/frame.js';
import type { MotionConfig } from '../config/cameras.js';
import type { Box } from '../geometry/box.js';
import type { Detector } from '../inference/detector.js';
import { RegionPlanner, type Trigger } from '../motion/region-planner.js';
import { cameraTopic, OFF, ON } from '../publish/camera-topics.js';
import type { PublishOptions } from '../publish/mqtt-publisher.js';
import type { ResizeMode } from '../pixels/resize-plan.js';
import { MotionStats, type MotionCounters, type MotionStatsSnapshot } from '../stats/motion-stats.js';
import { detectFullFrame, detectRegions, type RegionDetection } from './region-detect.js';

/** What the gate needs of the publisher. */
export interface MotionSink {
  topic(...parts: string[]): string;
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): void;
}

/** One frame the detector runs on: its answer (frame coordinates), the regions used, and why it ran. */
export interface GatedDetection extends RegionDetection {
  trigger: Trigger;
}

/** What the live page draws over the picture: the last frame's motion boxes and the regions last detected. */
export interface MotionOverlay {
  motion: Box[];
  regions: Box[];
}

const RETAINED: PublishOptions = { qos: 1, retain: true, offline: 'latest' };

/** `motion` turns OFF after this long without motion (frame time), so a walking person does not flicker it. */
export const MOTION_OFF_AFTER_MS = 3000;

/**
 * The motion stage of one camera inside its pipeline: runs the region planner on each frame the pipeline takes, then
 * either says "nothing to detect" or starts the detection of the whole frame or of its regions. It also owns the
 * camera's retained `motion` topic (ON / OFF) and the motion statistics.
 */
export class MotionGate {
  private planner: RegionPlanner | undefined;
  private readonly stats = new MotionStats();
  private readonly counters = this.stats.totals;
  private state: typeof ON | typeof OFF | undefined;
  private lastMotionAt = -Infinity;
  private readonly topic: string;
  /** The last frame's motion and the last regions detected, for the live page. */
  readonly overlay: MotionOverlay = { motion: [], regions: [] };

  constructor(
    private readonly camera: string,
    private readonly config: MotionConfig,
    private readonly sink: MotionSink,
  ) {
    this.topic = sink.topic(...cameraTopic.motion(camera));
  }

  /** `motion` OFF: nothing is known to move at start (and never a stale ON from the run before). */
  start(): void {
    this.setState(OFF, true);
  }

  /** Re-sends the retained state (after a reconnect). */
  republish(): void {
    if (this.state) this.sink.publish(this.topic, this.state, RETAINED);
  }

  /** On stop: nothing is watched any more. */
  stop(): void {
    this.setState(OFF);
  }

  /**
   * Plans the frame and starts its detection; undefined when the frame is not to be detected. `objects`: boxes of the
   * objects tracked now. The frame must stay unreleased until the answer settles.
   */
  async detect(frame: Frame, detector: Detector, resize: ResizeMode, objects: readonly Box[], minScore: number): Promise<GatedDetection | undefined> {
    const model = detector.model;
    const t0 = performance.now();
    const planner = this.plannerFor(frame, model.inputWidth, model.inputHeight);
    const plan = planner.plan(frame, model.kind === 'ssd' ? objects : []);
    this.stats.recordMotionMs(performance.now() - t0);
    this.counters.frames++;
    this.overlay.motion = plan.motion.boxes;
    if (plan.motion.boxes.length > 0) {
      this.counters.framesWithMotion++;
      this.lastMotionAt = frame.capturedAt;
      this.setState(ON);
    } else if (frame.capturedAt - this.lastMotionAt >= MOTION_OFF_AFTER_MS) {
      this.setState(OFF);
    }
    if (!plan.run) {
      this.counters.skipped++;
      return undefined;
    }
    this.counters.detectorRuns++;
    // A classifier has no boxes to map back from a region: it always sees the whole frame.
    const whole = plan.full || model.kind !== 'ssd';
    const run = whole ? await detectFullFrame(frame, detector, resize) : await detectRegions(frame, plan.regions, detector, this.config.maxRegions, minScore);
    this.counters.inferences += whole ? 1 : run.regions.length;
    // Regions grown for a cut object are added while the answer is awaited: counted when it settles.
    if (!whole) {
      const planned = run.regions.length;
      run.answer.then(() => (this.counters.inferences += run.regions.length - planned)).catch(() => undefined);
    }
    this.overlay.regions = run.regions;
    return { ...run, trigger: plan.trigger };
  }

  /** What the live page shows: whether something moves now, and how many frames the detector ran on or skipped. */
  live(): { state: string; detectorRuns: number; skipped: number } {
    return { state: this.state ?? OFF, detectorRuns: this.counters.detectorRuns, skipped: this.counters.skipped };
  }

  totals(): MotionCounters {
    return { ...this.counters };
  }

  snapshot(intervalSec: number): MotionStatsSnapshot {
    return this.stats.snapshot(intervalSec);
  }

  private plannerFor(frame: Frame, modelWidth: number, modelHeight: number): RegionPlanner {
    const p = this.planner;
    if (p && p.motion.plane.frameWidth === frame.width && p.motion.plane.frameHeight === frame.height && p.modelWidth === modelWidth && p.modelHeight === modelHeight) return p;
    // First frame, or the frame size changed (a camera reconfigured): motion starts over on the new size.
    const { threshold, minArea, masks, idleDetectSec, maxRegions } = this.config;
    this.planner = new RegionPlanner({ frameWidth: frame.width, frameHeight: frame.height, modelWidth, modelHeight, threshold, minArea, masks, idleDetectSec, maxRegions });
    return this.planner;
  }

  private setState(s: typeof ON | typeof OFF, force = false): void {
    if (!force && s === this.state) return;
    this.state = s;
    this.sink.publish(this.topic, s, RETAINED);
  }
}
