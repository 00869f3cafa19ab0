import { performance } from 'node:perf_hooks';
import { decodeImageFile } from '../camera/decode.js';
import type { ClassifierConfig, DetectorConfig } from '../config/index.js';
import { Classifier } from '../inference/classify/classifier.js';
import type { Detector } from '../inference/detector.js';
import { CameraPipeline } from '../pipeline/camera-pipeline.js';
import { ClassifyStage } from '../pipeline/classify-stage.js';
import { ClassifierStats } from '../stats/classifier-stats.js';
import type { Logger } from '../system/logger.js';
import { round } from './stats.js';
import { StillSource } from './still-source.js';
import { benchPipelineOptions } from './pipeline-options.js';

export interface ClassifierBenchOptions {
  /** The bench's detector, started (an SSD: the chain classifies what it finds). */
  detector: Detector;
  /** Settings the classifier's own inference host is made from (backend, threads, Edge TPU). */
  detectorConfig: DetectorConfig;
  classifierModel: string;
  /** null: labels embedded in the model. */
  labels: string | null;
  objects: string[];
  /** A picture holding one of `objects` (default: the shared bird photo). */
  image: string;
  warmupMs: number;
  measureMs: number;
  log: Logger;
}

export interface ClassifierRun {
  name: string;
  fps: number;
  frames: number;
  cropsPerFrame: number;
  cropMsP50: number;
  runtimeMsP50: number;
}

export interface ClassifierBenchReport {
  model: string;
  objects: string[];
  image: string;
  /** Detection alone, then with the classifier on every frame (worst case), then with answers reused (the default). */
  runs: ClassifierRun[];
  /** fps with the classifier / fps without: every frame classified, and with the default reuse. */
  ratioEveryFrame: number;
  ratioDefault: number;
}

/** The config a bench classifier gets: the schema's defaults but for what the command line names. */
const DEFAULTS = { minScore: 0.3, topK: 1, maxCrops: 3, margin: 0.1, reuseFrames: 10 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Each run measures at least this many frames, and two reuse periods (waiting up to MAX_MEASURE_MS for them). */
const MIN_FRAMES = 5;
const MAX_MEASURE_MS = 60_000;

/**
 * The pipeline's frame rate on one picture with and without a second-stage classifier, in its own inference host as
 * the daemon runs it: detection alone, classification of every frame's crops (reuseFrames 1), and the default reuse
 * of an answer for 10 frames of an object that stays put.
 */
export async function runClassifierBench(o: ClassifierBenchOptions): Promise<ClassifierBenchReport> {
  const image = await decodeImageFile(o.image);
  const config: ClassifierConfig = { objects: o.objects, model: { cpu: o.classifierModel, edgetpu: null }, edgetpuDevice: null, labels: o.labels, ...DEFAULTS };
  const classifier = new Classifier(config, 0, { ...o.detectorConfig, model: { cpu: o.classifierModel, edgetpu: null } }, o.log.child({ module: 'classifier' }));
  await classifier.start();
  try {
    if (!classifier.ready) throw new Error(`the classifier did not start: ${classifier.state.reason}`);
    const runs: ClassifierRun[] = [];
    for (const [name, reuseFrames] of [
      ['detection only', 0],
      ['+ classifier, every frame', 1],
      [`+ classifier, answers reused for ${DEFAULTS.reuseFrames} frames (default)`, DEFAULTS.reuseFrames],
    ] as const) {
      // The same loaded classifier, with this run's reuseFrames.
      const stage = reuseFrames > 0 ? Object.assign(Object.create(classifier) as Classifier, { config: { ...classifier.config, reuseFrames } }) : undefined;
      // At least two reuse periods, so that the reused run's crops per frame shows its cadence.
      runs.push(await measure(name, image, o, stage, Math.max(MIN_FRAMES, 2 * reuseFrames)));
    }
    const [alone, every, reused] = runs as [ClassifierRun, ClassifierRun, ClassifierRun];
    const ratio = (r: ClassifierRun): number => (alone.fps > 0 ? round(r.fps / alone.fps, 3) : 0);
    // Only the every-frame run must crop: with answers reused for 10 frames, a run may see none (reused from its warm-up).
    if (every.cropsPerFrame === 0) throw new Error(`the classifier got no crop: the detector found none of ${o.objects.join(', ')} in ${o.image}`);
    return { model: classifier.name, objects: o.objects, image: o.image, runs, ratioEveryFrame: ratio(every), ratioDefault: ratio(reused) };
  } finally {
    await classifier.stop();
  }
}

async function measure(name: string, image: { width: number; height: number; data: Buffer }, o: ClassifierBenchOptions, classifier: Classifier | undefined, minFrames: number): Promise<ClassifierRun> {
  const stats = new ClassifierStats();
  const key = classifier?.name ?? 'none';
  const pipeline = new CameraPipeline(
    benchPipelineOptions('classify', { qos: 0, retain: false, offline: 'latest' }, classifier ? { classify: new ClassifyStage([classifier], o.log, stats) } : {}),
    new StillSource(image, 'classify'),
    o.detector,
    { topic: (...p) => p.join('/'), publish: () => undefined },
    o.log.child({ camera: 'classify' }),
  );
  await pipeline.start();
  try {
    await sleep(o.warmupMs);
    stats.snapshot([key]);
    const before = pipeline.counters().processed;
    const t0 = performance.now();
    await sleep(o.measureMs);
    // At least a few frames, however slow the machine is now (an SSD and a classifier on a loaded core can take a
    // second between them): a verdict on no frame would be about the machine, not the classifier.
    while (pipeline.counters().processed - before < minFrames && performance.now() - t0 < MAX_MEASURE_MS) await sleep(20);
    const frames = pipeline.counters().processed - before;
    const elapsed = performance.now() - t0;
    if (frames === 0) throw new Error(`the "${name}" run processed no frame in ${Math.round(elapsed / 1000)} s`);
    const s = stats.snapshot([key])[key];
    return {
      name,
      fps: round((frames * 1000) / elapsed, 1),
      frames,
      cropsPerFrame: s?.cropsPerFrame ?? 0,
      cropMsP50: s?.cropMs.p50 ?? 0,
      runtimeMsP50: s?.inferenceMs.p50 ?? 0,
    };
  } finally {
    await pipeline.stop();
  }
}
