import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Frame } from '../camera/frame.js';
import type { RgbImage } from '../inference/preprocess.js';
import type { CropClassifier } from '../inference/classify/classifier.js';
import { planModel } from '../inference/model-plan.js';
import { TfliteDetector } from '../inference/tflite-detector.js';
import type { Detection } from '../inference/types.js';
import { ClassifyStage } from '../pipeline/classify-stage.js';
import { ClassifierStats } from '../stats/classifier-stats.js';
import { silentLogger } from '../system/logger.js';

/** The margin and crop count the daemon uses by default (classifiers[i].margin, maxCrops is unbounded here). */
const MARGIN = 0.1;

/**
 * `detect --classifier`: the daemon's classify stage (the same crops, the same sub-label rule) on photos, with the
 * classifier on the CPU.
 */
export class CliClassifier {
  readonly name: string;
  private constructor(
    private readonly detector: TfliteDetector,
    private readonly opts: { minScore: number },
  ) {
    this.name = detector.model.name;
  }

  static async start(path: string, opts: { labels: string | null; minScore: number; threads: number }): Promise<CliClassifier> {
    const plan = await planModel(path, { kind: 'auto', labelsPath: opts.labels, topK: 5 });
    if (plan.info.kind !== 'classification') throw new Error(`--classifier ${path} is an SSD detector, not a classifier (one output [1, N] of class scores)`);
    const detector = new TfliteDetector(plan, { backend: 'cpu', threads: opts.threads, inferenceTimeoutMs: 60_000 }, silentLogger());
    await detector.start();
    return new CliClassifier(detector, opts);
  }

  /** The detections with sub-labels; `objects` undefined classifies every detection. */
  async apply(image: RgbImage, origin: string, results: Detection[], objects: string[] | undefined): Promise<{ results: Detection[]; crops: number; ms: number }> {
    const labels = objects ?? [...new Set(results.map((r) => r.label))];
    const m = this.detector.model;
    const detector = this.detector;
    const crop: CropClassifier = {
      name: basename(m.name, '.tflite'),
      config: { objects: labels, model: { cpu: m.path, edgetpu: null }, edgetpuDevice: null, labels: null, minScore: this.opts.minScore, topK: 1, maxCrops: 1000, reuseFrames: 1, margin: MARGIN },
      ready: true,
      inputSize: () => ({ width: m.inputWidth, height: m.inputHeight }),
      classify: (rgb) => detector.detect(rgb),
    };
    const stats = new ClassifierStats();
    const stage = new ClassifyStage([crop], silentLogger(), stats);
    const frame: Frame = { camera: 'detect', seq: 0, capturedAt: 0, wallTime: Date.now(), captureMs: 0, width: image.width, height: image.height, data: image.data, origin };
    const started = performance.now();
    const out = await stage.apply(frame, results);
    const ms = performance.now() - started;
    const crops = stats.snapshot([crop.name])[crop.name]!.crops;
    return { results: out, crops, ms };
  }

  stop(): Promise<void> {
    return this.detector.stop();
  }
}
