import { performance } from 'node:perf_hooks';
import type { Frame } from '../camera/frame.js';
import type { CropClassifier } from '../inference/classify/classifier.js';
import type { Detection } from '../inference/types.js';
import { cropResizeI420, cropResizeRgb, squareCropRect } from '../pixels/crop.js';
import type { ClassifierMeter } from '../stats/classifier-stats.js';
import type { Logger } from '../system/logger.js';
import { ThrottledLog } from '../system/throttled-log.js';

/**
 * Detect, then classify: every detection of a label a classifier lists gets that classifier's best class as
 * subLabel/subScore (at or above its minScore), from a square crop of the full-resolution frame around its box.
 * A frame's crops go to the classifier all at once (its inference host queues them and keeps the runtime busy);
 * a classifier that fails or is not running leaves the detections as they were: detection never waits on it
 * longer than its answers take, and never fails because of it.
 */
export class ClassifyStage {
  private readonly problems: ThrottledLog;

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

  /** The detections, those a classifier named carrying subLabel/subScore (new objects; `results` is not changed). */
  async apply(frame: Frame, results: readonly Detection[]): Promise<Detection[]> {
    const out = results.map((d) => ({ ...d }));
    await Promise.all(this.classifiers.map((c) => this.run(c, frame, out)));
    return out;
  }

  private async run(c: CropClassifier, frame: Frame, out: Detection[]): Promise<void> {
    if (!c.ready) return;
    const { objects, maxCrops, margin, minScore, topK } = c.config;
    const candidates = out.filter((d) => d.box && objects.includes(d.label)).sort((a, b) => b.score - a.score);
    if (candidates.length === 0) return;
    const chosen = candidates.slice(0, maxCrops);
    const { width, height } = c.inputSize();
    await Promise.all(
      chosen.map(async (d) => {
        const started = performance.now();
        try {
          const rect = squareCropRect(d.box!, frame.width, frame.height, margin);
          const crop = frame.i420 ? cropResizeI420(frame.i420.data, frame.i420.layout, rect, width, height) : cropResizeRgb(frame.data, frame.width, frame.height, rect, width, height);
          const answer = await c.classify(crop);
          this.meter?.recordCrop(c.name, performance.now() - started, answer.inferenceMs);
          const kept = answer.results.filter((r) => r.score >= minScore).sort((a, b) => b.score - a.score);
          const best = kept[0];
          if (!best) return;
          d.subLabel = best.label;
          d.subScore = best.score;
          if (topK > 1) d.subLabels = kept.slice(0, topK).map((r) => ({ label: r.label, score: r.score }));
        } catch (err) {
          this.meter?.recordCropError(c.name);
          const reason = err instanceof Error ? err.message : String(err);
          this.problems.warn(`classify:${c.name}:${reason}`, { classifier: c.name, seq: frame.seq, frame: frame.origin, label: d.label, reason }, 'detection not classified: published without a sub-label');
        }
      }),
    );
    this.meter?.recordFrame(c.name, chosen.length, candidates.length - chosen.length);
  }
}
