import { performance } from 'node:perf_hooks';
import type { Frame } from '../camera/frame.js';
import { iou } from '../events/box-math.js';
import type { CropClassifier } from '../inference/classify/classifier.js';
import type { Box, Detection } from '../inference/types.js';
import { cropResizeI420, cropResizeRgb, squareCropRect } from '../pixels/crop.js';
import type { ClassifierMeter } from '../stats/classifier-stats.js';
import type { Logger } from '../system/logger.js';
import { ThrottledLog } from '../system/throttled-log.js';

/**
 * Detect, then classify: every detection of a label a classifier lists gets that classifier's best class as
 * subLabel/subScore (at or above its minScore), from a square crop of the full-resolution frame around its box.
 * A frame's crops go to the classifier all at once (its inference host queues them and keeps the runtime busy);
 * a classifier that fails or is not running leaves the detections as they were: detection never waits on it
 * longer than its answers take, and never fails because of it. An object that stays where it was (same label, box
 * overlapping) keeps its answer for `reuseFrames` frames instead of being cropped again: one stage per camera.
 */
export class ClassifyStage {
  private readonly problems: ThrottledLog;
  /** Per classifier: the answers of recent frames, by box, for reuse. */
  private readonly recent = new Map<string, Answer[]>();
  private frames = 0;

  constructor(
    private readonly classifiers: readonly CropClassifier[],
    log: Logger,
    private readonly meter?: ClassifierMeter,
  ) {
    this.problems = new ThrottledLog(log);
  }

  /** Whether any detection of this frame is for a running classifier (else apply() has nothing to do). */
  wants(results: readonly Detection[]): boolean {
    return this.classifiers.some((c) => c.ready && results.some((d) => d.box && c.config.objects.includes(d.label)));
  }

  /** Called for every detected frame: the detections, those a classifier named carrying subLabel/subScore (new objects; `results` is not changed). */
  async apply(frame: Frame, results: readonly Detection[]): Promise<Detection[]> {
    // Every frame counts toward reuseFrames, those with nothing to classify too.
    const now = ++this.frames;
    if (!this.wants(results)) return [...results];
    const out = results.map((d) => ({ ...d }));
    await Promise.all(this.classifiers.map((c) => this.run(c, frame, out, now)));
    return out;
  }

  private async run(c: CropClassifier, frame: Frame, out: Detection[], now: number): Promise<void> {
    if (!c.ready) return;
    const { objects, maxCrops, margin, minScore, topK, reuseFrames } = c.config;
    const candidates = out.filter((d) => d.box && objects.includes(d.label)).sort((a, b) => b.score - a.score);
    // Answers younger than reuseFrames; a box may take at most one of them.
    const fresh = (this.recent.get(c.name) ?? []).filter((a) => now - a.frame < reuseFrames);
    const kept: Answer[] = [];
    const toCrop: Detection[] = [];
    for (const d of candidates) {
      const i = fresh.findIndex((a) => a.label === d.label && iou(a.box, d.box!) >= REUSE_IOU);
      if (i < 0) {
        toCrop.push(d);
        continue;
      }
      const [a] = fresh.splice(i, 1);
      kept.push({ ...a!, box: d.box! });
      give(d, a!);
    }
    // Answers nobody took this frame stay until they age out: an object the detector misses for a frame keeps its name.
    if (candidates.length === 0) {
      this.recent.set(c.name, [...kept, ...fresh]);
      return;
    }
    const chosen = toCrop.slice(0, maxCrops);
    const { width, height } = c.inputSize();
    await Promise.all(
      chosen.map(async (d) => {
        const started = performance.now();
        try {
          const rect = squareCropRect(d.box!, frame.width, frame.height, margin);
          const crop = frame.i420 ? cropResizeI420(frame.i420.data, frame.i420.layout, rect, width, height) : cropResizeRgb(frame.data, frame.width, frame.height, rect, width, height);
          const answer = await c.classify(crop);
          this.meter?.recordCrop(c.name, performance.now() - started, answer.inferenceMs);
          const good = answer.results.filter((r) => r.score >= minScore).sort((a, b) => b.score - a.score);
          const best = good[0];
          const a: Answer = { label: d.label, box: d.box!, frame: now, ...(best ? { subLabel: best.label, subScore: best.score } : {}), ...(best && topK > 1 ? { subLabels: good.slice(0, topK).map((r) => ({ label: r.label, score: r.score })) } : {}) };
          kept.push(a);
          give(d, a);
        } catch (err) {
          this.meter?.recordCropError(c.name);
          const reason = err instanceof Error ? err.message : String(err);
          this.problems.warn(`classify:${c.name}:${reason}`, { classifier: c.name, seq: frame.seq, frame: frame.origin, label: d.label, reason }, 'detection not classified: published without a sub-label');
        }
      }),
    );
    this.recent.set(c.name, [...kept, ...fresh]);
    this.meter?.recordFrame(c.name, chosen.length, toCrop.length - chosen.length);
  }
}

/** Boxes overlapping this much are taken for the same object (the tracker's default is 0.3: this is stricter). */
const REUSE_IOU = 0.5;

/** A classifier's answer for one object: its sub-label (none when nothing reached minScore) and where it was. */
interface Answer {
  label: string;
  box: Box;
  /** The stage's frame count when the crop was classified. */
  frame: number;
  subLabel?: string;
  subScore?: number;
  subLabels?: { label: string; score: number }[];
}

function give(d: Detection, a: Answer): void {
  if (a.subLabel === undefined || a.subScore === undefined) return;
  d.subLabel = a.subLabel;
  d.subScore = a.subScore;
  if (a.subLabels) d.subLabels = a.subLabels;
}
