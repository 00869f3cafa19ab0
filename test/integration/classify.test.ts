import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/camera/frame.js';
import { decodeImageFile } from '../../src/camera/decode.js';
import { detectorConfig, type ClassifierConfig, type DetectorConfig } from '../../src/config/index.js';
import { Classifier, type ClassifierState } from '../../src/inference/classify/classifier.js';
import { classifierModelProblems } from '../../src/inference/classify/classifier-models.js';
import { applyFilters } from '../../src/inference/filters.js';
import { planModel } from '../../src/inference/model-plan.js';
import { prepareInput, toFrameBox } from '../../src/inference/preprocess.js';
import { TfliteDetector } from '../../src/inference/tflite-detector.js';
import type { Detection } from '../../src/inference/types.js';
import { ClassifyStage } from '../../src/pipeline/classify-stage.js';
import { i420Layout } from '../../src/pixels/i420-layout.js';
import { ClassifierStats } from '../../src/stats/classifier-stats.js';
import { silentLogger } from '../../src/system/logger.js';
import { SSD_V1, V2_224, image, model } from '../helpers/paths.js';
import { writeTwoBirds } from '../helpers/two-birds.js';
import { makeTpuWorld, stubDetectorConfig } from '../helpers/tpu-world.js';

const IMAGENET_LABELS = model('imagenet_labels.txt');
const tmp = mkdtempSync(join(tmpdir(), 'me-classify-'));
const stopped: { stop(): Promise<void> }[] = [];

const detectorCfg: DetectorConfig = detectorConfig({ backend: 'cpu', model: { cpu: SSD_V1 } });

const classifierConfig = (extra: Partial<ClassifierConfig> = {}): ClassifierConfig => ({
  objects: ['bird'],
  model: { cpu: V2_224, edgetpu: null },
  edgetpuDevice: null,
  labels: IMAGENET_LABELS,
  minScore: 0.3,
  topK: 1,
  maxCrops: 3,
  reuseFrames: 1,
  margin: 0.1,
  ...extra,
});

let ssd: TfliteDetector;

/** The SSD's detections of an image file in frame coordinates, filtered as the daemon's defaults would (0.3 here). */
async function detect(file: string, minScore = 0.3): Promise<{ frame: Frame; results: Detection[] }> {
  const img = await decodeImageFile(file);
  const p = await prepareInput(img, ssd.model.inputWidth, ssd.model.inputHeight, 'stretch');
  const out = await ssd.detect(p.data);
  const mapped = out.results.map((r) => (r.box ? { ...r, box: toFrameBox(r.box, p.geometry) } : r));
  const results = applyFilters(mapped, { minScore, labels: [], perLabel: {}, maxResults: 20 });
  const frame: Frame = { camera: 'test', seq: 1, capturedAt: 0, wallTime: Date.now(), captureMs: 0, width: img.width, height: img.height, data: img.data, origin: file };
  return { frame, results };
}

async function classifier(cfg: ClassifierConfig, onState?: (s: ClassifierState) => void): Promise<Classifier> {
  const c = new Classifier(cfg, 0, detectorCfg, silentLogger(), onState);
  stopped.push(c);
  await c.start();
  return c;
}

beforeAll(async () => {
  ssd = new TfliteDetector(await planModel(SSD_V1, { kind: 'auto', labelsPath: null, topK: 5 }), { backend: 'cpu', threads: 1, inferenceTimeoutMs: 60_000 }, silentLogger());
  stopped.push(ssd);
  await ssd.start();
});

afterAll(async () => {
  await Promise.all(stopped.map((s) => s.stop().catch(() => undefined)));
  rmSync(tmp, { recursive: true, force: true });
});

describe('detect, then classify, with the shared models', () => {
  it('the COCO SSD finds the bird in bird.bmp and the ImageNet MobileNet v2 names it from the crop: a chickadee', async () => {
    const c = await classifier(classifierConfig());
    expect(c.state).toMatchObject({ state: 'running', backend: 'cpu', name: 'mobilenet_v2_1.0_224_quant' });
    const stats = new ClassifierStats();
    const stage = new ClassifyStage([c], silentLogger(), stats);
    const { frame, results } = await detect(image('bird.bmp'));
    const bird = results.find((r) => r.label === 'bird');
    expect(bird, JSON.stringify(results)).toBeDefined();
    const out = await stage.apply(frame, results);
    const named = out.find((r) => r.label === 'bird')!;
    expect(named.subLabel).toBe('chickadee');
    expect(named.subScore).toBeGreaterThan(0.5);
    // The detector's own answer is kept as it was.
    expect(named).toMatchObject({ label: 'bird', score: bird!.score, box: bird!.box });
    const s = stats.snapshot([c.name])[c.name]!;
    expect(s.crops).toBeGreaterThanOrEqual(1);
    expect(s.frames).toBe(1);
    expect(s.cropMs.count).toBe(s.crops);
  });

  it('gives the same answer from the camera\'s I420 planes as from RGB', async () => {
    const c = await classifier(classifierConfig());
    const stage = new ClassifyStage([c], silentLogger());
    const { frame, results } = await detect(image('bird.bmp'));
    // The same picture as I420 (BT.601 full range, as a camera gives it), cropped and converted in one pass.
    const layout = i420Layout(frame.width, frame.height, 'none');
    const yuv = new Uint8Array(layout.frameSize);
    for (let y = 0; y < frame.height; y++) {
      for (let x = 0; x < frame.width; x++) {
        const o = (y * frame.width + x) * 3;
        const [r, g, b] = [frame.data[o]!, frame.data[o + 1]!, frame.data[o + 2]!];
        yuv[y * layout.yStride + x] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
        if (y % 2 === 0 && x % 2 === 0) {
          const ci = (y >> 1) * layout.uvStride + (x >> 1);
          yuv[layout.uOffset + ci] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)));
          yuv[layout.vOffset + ci] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)));
        }
      }
    }
    const i420Frame: Frame = { ...frame, i420: { data: yuv, layout } };
    const out = await stage.apply(i420Frame, results);
    expect(out.find((r) => r.label === 'bird')!.subLabel).toBe('chickadee');
  });

  it('two different "birds" in one scene each get their own sub-label', async () => {
    const file = join(tmp, 'two-birds.png');
    const { split } = await writeTwoBirds(file);
    const c = await classifier(classifierConfig({ maxCrops: 10 }));
    const stage = new ClassifyStage([c], silentLogger());
    const { frame, results } = await detect(file);
    const out = await stage.apply(frame, results);
    const birds = out.filter((r) => r.label === 'bird');
    // The best-scored bird of each half: the chickadee above the split, the dragonfly below it.
    const centreY = (r: Detection): number => (r.box!.ymin + r.box!.ymax) / 2;
    const top = birds.filter((r) => centreY(r) < split).sort((a, b) => b.score - a.score)[0];
    const bottom = birds.filter((r) => centreY(r) > split).sort((a, b) => b.score - a.score)[0];
    expect(top, JSON.stringify(out)).toBeDefined();
    expect(bottom, JSON.stringify(out)).toBeDefined();
    expect(top!.subLabel).toBe('chickadee');
    expect(bottom!.subLabel).toMatch(/^dragonfly/);
  });

  it('an object not in `objects` gets no sub-label (and is not cropped)', async () => {
    const file = join(tmp, 'two-birds-objects.png');
    await writeTwoBirds(file);
    const stats = new ClassifierStats();
    const c = await classifier(classifierConfig({ objects: ['cat'] }));
    const stage = new ClassifyStage([c], silentLogger(), stats);
    const { frame, results } = await detect(file);
    expect(results.some((r) => r.label === 'bird')).toBe(true);
    expect(stage.wants(results)).toBe(results.some((r) => r.label === 'cat'));
    const out = await stage.apply(frame, results);
    for (const r of out.filter((d) => d.label !== 'cat')) expect(r.subLabel, `${r.label} ${r.score}`).toBeUndefined();
    expect(stats.snapshot([c.name])[c.name]!.crops).toBe(out.filter((d) => d.label === 'cat').length);
  });

  it('at most maxCrops detections per frame are classified, the best-scored ones; the rest are counted', async () => {
    const file = join(tmp, 'two-birds-max.png');
    await writeTwoBirds(file);
    const stats = new ClassifierStats();
    const c = await classifier(classifierConfig({ maxCrops: 1 }));
    const stage = new ClassifyStage([c], silentLogger(), stats);
    const { frame, results } = await detect(file);
    const birds = results.filter((r) => r.label === 'bird').length;
    expect(birds).toBeGreaterThan(1);
    const out = await stage.apply(frame, results);
    const named = out.filter((r) => r.subLabel !== undefined);
    expect(named).toHaveLength(1);
    expect(named[0]!.score).toBe(Math.max(...out.filter((r) => r.label === 'bird').map((r) => r.score)));
    expect(stats.snapshot([c.name])[c.name]).toMatchObject({ crops: 1, skipped: birds - 1 });
  });

  it('topK above 1 also lists the best classes at or above minScore', async () => {
    const c = await classifier(classifierConfig({ topK: 3, minScore: 0.001 }));
    const stage = new ClassifyStage([c], silentLogger());
    const { frame, results } = await detect(image('bird.bmp'));
    const bird = (await stage.apply(frame, results)).find((r) => r.label === 'bird')!;
    expect(bird.subLabels?.length).toBeGreaterThan(1);
    expect(bird.subLabels![0]).toEqual({ label: bird.subLabel, score: bird.subScore });
    expect(bird.subLabels!.every((s) => s.score >= 0.001)).toBe(true);
  });

  it('a classifier whose model fails to load is "failed" with the reason; detection is untouched', async () => {
    // Planned fine (check-config passed), then gone when the daemon loads it: the start must not fail for that.
    const file = join(tmp, 'vanishing.tflite');
    copyFileSync(V2_224, file);
    const cfg = classifierConfig({ model: { cpu: file, edgetpu: null } });
    expect(await classifierModelProblems(detectorCfg, [cfg])).toEqual([]);
    rmSync(file);
    const states: ClassifierState[] = [];
    const c = await classifier(cfg, (s) => states.push(s));
    expect(c.ready).toBe(false);
    expect(c.state.state).toBe('failed');
    expect(c.state.reason).toMatch(/cannot load classifier vanishing: .*vanishing\.tflite.*detection goes on/);
    expect(states.at(-1)?.state).toBe('failed');
    const stage = new ClassifyStage([c], silentLogger());
    const { frame, results } = await detect(image('bird.bmp'));
    expect(stage.wants(results)).toBe(false);
    const out = await stage.apply(frame, results);
    expect(out).toEqual(results);
  });

  it('check-config reports a classifier model that is missing or is not a classifier, with the classifier\'s key', async () => {
    const problems = await classifierModelProblems(detectorCfg, [
      classifierConfig({ model: { cpu: join(tmp, 'nope.tflite'), edgetpu: null } }),
      classifierConfig({ objects: ['cat'], model: { cpu: SSD_V1, edgetpu: null }, labels: null }),
    ]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ key: 'classifiers[0].model.cpu' });
    expect(problems[0]!.message).toMatch(/nope\.tflite/);
    expect(problems[1]).toMatchObject({ key: 'classifiers[1].model.cpu' });
    expect(problems[1]!.message).toMatch(/is an SSD detector, not a classifier/);
  });

  it('runs on the (stub) Edge TPU when it has an _edgetpu build, and falls back to its CPU twin like the detector', async () => {
    const world = makeTpuWorld();
    const cpu = join(world.dir, 'birds.tflite');
    const tpu = join(world.dir, 'birds_edgetpu.tflite');
    copyFileSync(V2_224, cpu);
    copyFileSync(V2_224, tpu);
    const det = { ...detectorCfg, ...stubDetectorConfig(world), model: { cpu: world.cpuModel, edgetpu: world.tpuModel } } as DetectorConfig;
    const states: ClassifierState[] = [];
    const c = new Classifier(classifierConfig({ model: { cpu: null, edgetpu: tpu } }), 0, det, silentLogger(), (s) => states.push(s));
    stopped.push(c);
    const env = process.env.MOBILENET_EDGE_STUB_CONTROL;
    process.env.MOBILENET_EDGE_STUB_CONTROL = world.control; // read by the stub in the inference hosts this process starts
    try {
      await c.start();
      expect(c.state).toMatchObject({ state: 'running', backend: 'edgetpu', name: 'birds' });
      const stage = new ClassifyStage([c], silentLogger());
      const { frame, results } = await detect(image('bird.bmp'));
      const onTpu = await stage.apply(frame, results);
      expect(onTpu.find((r) => r.label === 'bird')!.subLabel).toBe('chickadee');
      // The TPU fails an inference: the crop runs again on the CPU twin (found beside the _edgetpu file), no sub-label lost.
      world.setMode('invoke-error');
      const onCpu = await stage.apply(frame, results);
      expect(onCpu.find((r) => r.label === 'bird')!.subLabel).toBe('chickadee');
      expect(c.state).toMatchObject({ state: 'running', backend: 'cpu' });
      expect(states.map((s) => s.backend)).toContain('cpu');
    } finally {
      if (env === undefined) delete process.env.MOBILENET_EDGE_STUB_CONTROL;
      else process.env.MOBILENET_EDGE_STUB_CONTROL = env;
      await c.stop();
    }
  });
});
