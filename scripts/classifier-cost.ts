/**
 * What a second-stage classifier costs (issue 16), measured with the shared models:
 *   1. per crop on the CPU: crop + resize (from RGB and from I420), the classifier's runtime, and the whole round trip;
 *   2. the pipeline's frame rate with and without a classifier (a real CameraPipeline, the SSD in its inference host,
 *      frames made on demand so the detector is never starved), on one bird (1 crop a frame) and on a scene with
 *      several birds (maxCrops crops a frame);
 *   3. the same with answers reused for 10 frames (the default reuseFrames), and with detection and classification forced to take turns (one runtime at a time: what a single shared
 *      inference host would do), to show what running the classifier in a host of its own buys.
 *
 * Usage: npx tsx scripts/classifier-cost.ts [--seconds N] [--json]
 * Run it on an otherwise idle machine: every figure is wall-clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { StillSource } from '../src/bench/still-source.js';
import { decodeImageFile } from '../src/camera/decode.js';
import { detectorConfig, type ClassifierConfig, type DetectorConfig } from '../src/config/index.js';
import { Classifier } from '../src/inference/classify/classifier.js';
import type { Detector, DetectResult } from '../src/inference/detector.js';
import { planModel } from '../src/inference/model-plan.js';
import { TfliteDetector } from '../src/inference/tflite-detector.js';
import { CameraPipeline } from '../src/pipeline/camera-pipeline.js';
import { ClassifyStage } from '../src/pipeline/classify-stage.js';
import { cropResizeI420, cropResizeRgb, squareCropRect } from '../src/pixels/crop.js';
import { i420Layout } from '../src/pixels/i420-layout.js';
import { ClassifierStats } from '../src/stats/classifier-stats.js';
import { silentLogger } from '../src/system/logger.js';
import { benchPipelineOptions } from '../src/bench/pipeline-options.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, json: { type: 'boolean' } } });
const MEASURE_MS = Number(values.seconds) * 1000;
const WARMUP_MS = 3000;
const SHARED = resolve(import.meta.dirname, '..', '..', 'shared');
const SSD = join(SHARED, 'models', 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite');
const V2 = join(SHARED, 'models', 'mobilenet_v2_1.0_224_quant.tflite');
const LABELS = join(SHARED, 'models', 'imagenet_labels.txt');

const detectorCfg: DetectorConfig = detectorConfig({ backend: 'cpu', model: { cpu: SSD } });
const classifierConfig = (maxCrops: number): ClassifierConfig => ({ objects: ['bird'], model: { cpu: V2, edgetpu: null }, edgetpuDevice: null, labels: LABELS, minScore: 0.3, topK: 1, maxCrops, reuseFrames: 1, margin: 0.1 });

/** One runtime at a time across the detector and the classifier: the schedule a single shared host would impose. */
class Turns {
  private tail: Promise<unknown> = Promise.resolve();
  wrap<T>(run: () => Promise<T>): Promise<T> {
    const next = this.tail.then(run, run);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
function taking(d: Detector, turns: Turns): Detector {
  return { get backend() { return d.backend; }, get model() { return d.model; }, start: () => d.start(), stop: () => d.stop(), detect: (input) => turns.wrap(() => d.detect(input)) };
}

interface Run {
  name: string;
  fps: number;
  frames: number;
  cropsPerFrame: number;
  cropMsP50: number;
  classifierRuntimeMsP50: number;
  totalLatencyMsP50: number;
}

async function runPipeline(name: string, image: { width: number; height: number; data: Buffer }, detector: Detector, classifier: Classifier | undefined, reuseFrames: number, turns?: Turns): Promise<Run> {
  const stats = new ClassifierStats();
  // The same loaded classifier, with this run's reuseFrames (and, taking turns, its inferences queued behind detection's).
  const crops = classifier && turns
    ? Object.assign(Object.create(classifier) as Classifier, { classify: (rgb: Uint8Array): Promise<DetectResult> => turns.wrap(() => classifier.classify(rgb)), config: { ...classifier.config, reuseFrames } })
    : classifier && Object.assign(Object.create(classifier) as Classifier, { config: { ...classifier.config, reuseFrames } });
  const totals: number[] = [];
  let measuring = false;
  const pipeline = new CameraPipeline(
    benchPipelineOptions('bench', { qos: 0, retain: false, offline: 'queue' }, crops ? { classify: new ClassifyStage([crops], silentLogger(), stats) } : {}),
    new StillSource(image, 'bench'),
    turns ? taking(detector, turns) : detector,
    {
      topic: (...p) => p.join('/'),
      publish: (_t, payload) => {
        if (measuring) totals.push((JSON.parse(payload.toString()) as { latencyMs: { total: number } }).latencyMs.total);
      },
    },
    silentLogger(),
  );
  await pipeline.start();
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const before = pipeline.counters().processed;
  stats.snapshot([crops?.name ?? 'none']);
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  const frames = pipeline.counters().processed - before;
  const elapsed = performance.now() - t0;
  measuring = false;
  const s = stats.snapshot([crops?.name ?? 'none'])[crops?.name ?? 'none']!;
  await pipeline.stop();
  totals.sort((a, b) => a - b);
  return {
    name,
    fps: Math.round((frames / elapsed) * 1000 * 100) / 100,
    frames,
    cropsPerFrame: s.cropsPerFrame,
    cropMsP50: s.cropMs.p50,
    classifierRuntimeMsP50: s.inferenceMs.p50,
    totalLatencyMsP50: Math.round((totals[(totals.length - 1) >> 1] ?? 0) * 10) / 10,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[(s.length - 1) >> 1]! * 1000) / 1000;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'classifier-cost-'));
  const bird = await decodeImageFile(join(SHARED, 'images', 'bird.bmp'));
  // A crowded feeder: the chickadee four times, 2x2 (the SSD finds several birds; maxCrops bounds the crops).
  const tile = await sharp(bird.data, { raw: { width: bird.width, height: bird.height, channels: 3 } }).png().toBuffer();
  const flock = join(tmp, 'flock.png');
  await sharp({ create: { width: bird.width * 2, height: bird.height * 2, channels: 3, background: '#808080' } })
    .composite([0, 1, 2, 3].map((i) => ({ input: tile, left: (i % 2) * bird.width, top: (i >> 1) * bird.height })))
    .png()
    .toFile(flock);
  const scene = await decodeImageFile(flock);

  // 1. Crop + resize alone (no inference), from RGB and from I420, 640x480-class frames to 224x224.
  const box = { xmin: 0.07, ymin: 0.24, xmax: 0.96, ymax: 0.94 };
  const rect = squareCropRect(box, bird.width, bird.height, 0.1);
  const layout = i420Layout(bird.width, bird.height, 'none');
  const yuv = new Uint8Array(layout.frameSize).fill(128);
  const rgbMs: number[] = [];
  const i420Ms: number[] = [];
  const out = new Uint8Array(224 * 224 * 3);
  for (let i = 0; i < 300; i++) {
    let t = performance.now();
    cropResizeRgb(bird.data, bird.width, bird.height, rect, 224, 224, out);
    rgbMs.push(performance.now() - t);
    t = performance.now();
    cropResizeI420(yuv, layout, rect, 224, 224, out);
    i420Ms.push(performance.now() - t);
  }

  const ssd = new TfliteDetector(await planModel(SSD, { kind: 'auto', labelsPath: null, topK: 5 }), { backend: 'cpu', threads: 1, inferenceTimeoutMs: 60_000 }, silentLogger());
  await ssd.start();
  const classifier = new Classifier(classifierConfig(3), 0, detectorCfg, silentLogger());
  await classifier.start();
  if (!classifier.ready) throw new Error(classifier.state.reason);

  // 2. Classifier runtime per crop, alone (no detection running).
  const aloneRoundTrip: number[] = [];
  const aloneRuntime: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    const crop = cropResizeRgb(bird.data, bird.width, bird.height, rect, 224, 224);
    const r = await classifier.classify(crop);
    if (i >= 5) {
      aloneRoundTrip.push(performance.now() - t);
      aloneRuntime.push(r.inferenceMs);
    }
  }

  const runs: Run[] = [];
  for (const [name, image] of [['bird.bmp', bird], ['flock (4 chickadees)', scene]] as const) {
    runs.push(await runPipeline(`${name}: detection only`, image, ssd, undefined, 1));
    runs.push(await runPipeline(`${name}: + classifier, every frame (reuseFrames 1), own host`, image, ssd, classifier, 1));
    runs.push(await runPipeline(`${name}: + classifier, every frame, taking turns with detection`, image, ssd, classifier, 1, new Turns()));
    runs.push(await runPipeline(`${name}: + classifier, reuseFrames 10 (default), own host`, image, ssd, classifier, 10));
  }
  await Promise.all([ssd.stop(), classifier.stop()]);
  rmSync(tmp, { recursive: true, force: true });

  const report = {
    machine: { cores: (await import('node:os')).cpus().length, node: process.version },
    perCrop: {
      cropResizeRgbMsP50: median(rgbMs),
      cropResizeI420MsP50: median(i420Ms),
      classifierRuntimeMsP50: median(aloneRuntime),
      roundTripMsP50: median(aloneRoundTrip),
    },
    pipeline: runs,
  };
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(`${report.machine.cores} cores, Node ${report.machine.node}; SSD MobileNet v1 + MobileNet v2 1.0-224 (uint8), CPU, threads 1`);
  console.log(`per crop: crop+resize ${report.perCrop.cropResizeRgbMsP50} ms from RGB, ${report.perCrop.cropResizeI420MsP50} ms from I420; classifier runtime ${report.perCrop.classifierRuntimeMsP50} ms; round trip ${report.perCrop.roundTripMsP50} ms (p50, alone)`);
  console.log('| run | fps | crops/frame | crop ms p50 | classifier runtime ms p50 | frame latency ms p50 |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of runs) console.log(`| ${r.name} | ${r.fps} | ${r.cropsPerFrame} | ${r.cropMsP50} | ${r.classifierRuntimeMsP50} | ${r.totalLatencyMsP50} |`);
}

await main();
