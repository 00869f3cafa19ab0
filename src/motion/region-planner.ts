import type { Frame } from '../camera/frame.js';
import type { Box } from '../geometry/box.js';
import { MotionDetector, type MotionOptions, type MotionResult } from './motion-detector.js';
import { coversFrame, planRegions, type Rect } from './regions.js';

export interface PlannerOptions extends MotionOptions {
  frameWidth: number;
  frameHeight: number;
  modelWidth: number;
  modelHeight: number;
  /** Regions per frame at most (each is one inference). */
  maxRegions: number;
  /** With no motion and nothing tracked, one full-frame detection this often (s); 0: never. */
  idleDetectSec: number;
  /** Objects that stay still are looked at again this often (s), so counts and occupancy stay true. */
  recheckSec?: number;
}

/**
 * Why the detector runs on a frame: `motion` (regions around motion and tracked objects), `objects` (the periodic
 * re-check of still tracked objects), `idle` (the periodic full frame of a still scene; also the first frame),
 * `calibration` (one full frame after a global change such as lights switched on).
 */
export type Trigger = 'motion' | 'objects' | 'idle' | 'calibration';

export type FramePlan =
  | { run: false; motion: MotionResult }
  | { run: true; trigger: Trigger; motion: MotionResult; full: true }
  | { run: true; trigger: Trigger; motion: MotionResult; full: false; regions: Rect[] };

/** Still tracked objects are re-checked this often by default. */
export const RECHECK_SEC = 3;

/**
 * Decides, frame by frame, whether the detector runs and where: nothing when the scene is still and nothing is
 * tracked (but a full frame every idleDetectSec, for what motion cannot see: something already there at start);
 * regions around motion and tracked objects when something moves; the tracked objects alone every few seconds while
 * they stand still. Times come from the frames (capturedAt), so a test can replay frames at any speed.
 */
export class RegionPlanner {
  readonly motion: MotionDetector;
  private lastFull = -Infinity;
  private lastObjects = -Infinity;
  private lastMotion = -Infinity;

  constructor(private readonly opts: PlannerOptions) {
    if (!Number.isInteger(opts.maxRegions) || opts.maxRegions < 1) throw new Error(`maxRegions must be a whole number >= 1, got ${opts.maxRegions}`);
    this.motion = new MotionDetector(opts.frameWidth, opts.frameHeight, opts);
  }

  get modelWidth(): number {
    return this.opts.modelWidth;
  }

  get modelHeight(): number {
    return this.opts.modelHeight;
  }

  /** `objects`: boxes of the objects tracked now (normalised). */
  plan(frame: Pick<Frame, 'width' | 'height' | 'i420' | 'data' | 'origin' | 'capturedAt'>, objects: readonly Box[]): FramePlan {
    const motion = this.motion.detect(frame);
    const now = frame.capturedAt;
    const idleMs = this.opts.idleDetectSec * 1000;
    if (motion.recalibrated) return this.full('calibration', motion, now);
    if (motion.boxes.length > 0) {
      this.lastMotion = now;
      return this.regions('motion', [...motion.boxes, ...objects], motion, now);
    }
    // Tracked objects are looked at on every frame for a while after motion stops (one that left is then missed
    // frame after frame, and its event ends within events.maxMissed frames), then every recheckSec.
    const recheckMs = (this.opts.recheckSec ?? RECHECK_SEC) * 1000;
    if (objects.length > 0 && (now - this.lastMotion < recheckMs || now - this.lastObjects >= recheckMs)) return this.regions('objects', objects, motion, now);
    // The first frame is always detected; later ones once per idleDetectSec, unless 0 turned that off.
    if (this.lastFull === -Infinity || (idleMs > 0 && now - this.lastFull >= idleMs)) return this.full('idle', motion, now);
    return { run: false, motion };
  }

  private full(trigger: Trigger, motion: MotionResult, now: number): FramePlan {
    this.lastFull = now;
    this.lastObjects = now;
    return { run: true, trigger, motion, full: true };
  }

  private regions(trigger: Trigger, boxes: readonly Box[], motion: MotionResult, now: number): FramePlan {
    const o = this.opts;
    const regions = planRegions(boxes, { frameWidth: o.frameWidth, frameHeight: o.frameHeight, modelWidth: o.modelWidth, modelHeight: o.modelHeight, maxRegions: o.maxRegions });
    // A region as big as the frame is the full frame: say so (the idle clock restarts too).
    if (regions.length === 1 && coversFrame(regions[0]!, o.frameWidth, o.frameHeight)) return this.full(trigger, motion, now);
    this.lastObjects = now;
    return { run: true, trigger, motion, full: false, regions };
  }
}
