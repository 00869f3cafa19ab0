import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../src/camera/decode.js';
import { planModel, type PlanOptions } from '../../src/inference/model-plan.js';
import { prepareInput, toFrameBox } from '../../src/inference/preprocess.js';
import { TfliteDetector } from '../../src/inference/tflite-detector.js';
import { HostTimeoutError } from '../../src/inference/host/host-process.js';
import type { Detection } from '../../src/inference/types.js';
import { silentLogger } from '../../src/system/logger.js';
import { SSD_V1, V1_025, V2_224, image, model } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';
import { createDetector } from '../../src/inference/create-detector.js';
import { detectorConfig } from '../../src/config/index.js';

const plan = (path: string, extra: Partial<PlanOptions> = {}) => planModel(path, { kind: 'auto', labelsPath: null, topK: 5, ...extra });
const started: TfliteDetector[] = [];

async function detector(path: string, inferenceTimeoutMs = 10_000): Promise<TfliteDetector> {
  const d = new TfliteDetector(await plan(path), { backend: 'cpu', threads: 1, inferenceTimeoutMs }, silentLogger());
  started.push(d);
  await d.start();
  return d;
}

async function run(d: TfliteDetector, file: string): Promise<Detection[]> {
  const img = await decodeImageFile(image(file));
  const p = await prepareInput(img, d.model.inputWidth, d.model.inputHeight, 'stretch');
  const out = await d.detect(p.data);
  return out.results.map((r) => (r.box ? { ...r, box: toFrameBox(r.box, p.geometry) } : r));
}

afterAll(async () => {
  await Promise.all(started.map((d) => d.stop()));
});

describe('classification on real photos (mobilenet_v2_1.0_224_quant)', () => {
  it('grace_hopper.bmp: "military uniform" top-1', async () => {
    const d = await detector(V2_224);
    expect(d.model).toMatchObject({ kind: 'classification', inputWidth: 224, inputHeight: 224 });
    const results = await run(d, 'grace_hopper.bmp');
    expect(results[0]!.label).toBe('military uniform');
    expect(results[0]!.score).toBeGreaterThan(0.5);
    expect(results.length).toBe(5);
    expect(results.every((r) => r.box === undefined)).toBe(true);
  });

  it('cat.bmp: a cat class top-1', async () => {
    const d = await detector(V2_224);
    const top = (await run(d, 'cat.bmp'))[0]!;
    expect(['tabby', 'tiger cat', 'Egyptian cat', 'Persian cat', 'Siamese cat']).toContain(top.label);
  });
});

describe('SSD detection on a real photo (coco_ssd_mobilenet_v1)', () => {
  it('cats_and_dogs.jpg: cats at both ends and a dog between them, boxes where they are', async () => {
    const d = await detector(SSD_V1);
    expect(d.model.kind).toBe('ssd');
    const results = (await run(d, 'cats_and_dogs.jpg')).filter((r) => r.score >= 0.4);
    const cx = (r: Detection) => (r.box!.xmin + r.box!.xmax) / 2;
    const cy = (r: Detection) => (r.box!.ymin + r.box!.ymax) / 2;
    const cats = results.filter((r) => r.label === 'cat');
    const dogs = results.filter((r) => r.label === 'dog');
    expect(cats.length).toBeGreaterThanOrEqual(2);
    expect(dogs.length).toBeGreaterThanOrEqual(1);
    expect(cats.every((c) => c.classId === 16)).toBe(true);
    // The left cat lies in the bottom-left corner of a 1200x600 photo: its box is low, left, and wider than tall
    // in pixels. Swapped x/y or a wrong output order would put it elsewhere.
    const left = cats.find((c) => cx(c) < 0.3)!;
    expect(left).toBeDefined();
    expect(cy(left)).toBeGreaterThan(0.7);
    expect(left.box!.ymax).toBeGreaterThan(0.95);
    expect((left.box!.xmax - left.box!.xmin) * 1200).toBeGreaterThan((left.box!.ymax - left.box!.ymin) * 600);
    // The cat at the right end.
    expect(cats.some((c) => cx(c) > 0.7 && cy(c) > 0.7)).toBe(true);
    // The poodle stands left of centre: a dog box contains it.
    expect(dogs.some((g) => g.box!.xmin < 0.43 && g.box!.xmax > 0.43 && g.box!.ymin < 0.5 && g.box!.ymax > 0.9)).toBe(true);
  });
});

describe('bad models give clear errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'me-badmodel-'));

  it('a file that is not a TFLite model', async () => {
    const f = join(dir, 'notes.tflite');
    writeFileSync(f, 'this is not a model\n');
    await expect(plan(f)).rejects.toThrow(new RegExp(`${f}.*not a TFLite model`));
  });

  it('a truncated model', async () => {
    const f = join(dir, 'truncated.tflite');
    writeFileSync(f, readFileSync(V1_025).subarray(0, 100_000));
    await expect(plan(f)).rejects.toThrow(/truncated\.tflite.*(truncated|corrupt)/);
  });

  it('an _edgetpu model on the CPU names the CPU twin', async () => {
    const d = new TfliteDetector(await plan(model('mobilenet_v1_0.25_128_quant_edgetpu.tflite')), { backend: 'cpu', threads: 1, inferenceTimeoutMs: 5000 }, silentLogger());
    await expect(d.start()).rejects.toThrow(/compiled for the Edge TPU.*CPU twin/);
  });

  it('model_invoking_error.tflite (not an image model, with an op this runtime lacks) is refused naming the file', async () => {
    const f = join(dir, 'model_invoking_error.tflite');
    copyFileSync(model('model_invoking_error.tflite'), f);
    await expect(plan(f, { kind: 'classification' })).rejects.toThrow(new RegExp(`${f}: expected one image input \\[1,H,W,3\\], found \\[1,3\\]`));
  });
});

describe('the inference host can fail without taking the daemon with it', () => {
  it('a killed host is replaced on the next frame', async () => {
    const d = await detector(V1_025);
    const input = new Uint8Array(128 * 128 * 3).fill(100);
    await d.detect(input);
    const pid = d.hostPid!;
    process.kill(pid, 'SIGKILL');
    await expect(d.detect(input)).rejects.toThrow(/inference host (killed by SIGKILL|is not running)|restarting/);
    const out = await d.detect(input);
    expect(out.results.length).toBeGreaterThan(0);
    expect(d.hostPid).not.toBe(pid);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('an inference past the deadline kills the host (a hang) and the next one works', async () => {
    const d = await detector(V2_224, 1);
    const input = new Uint8Array(224 * 224 * 3).fill(50);
    const pid = d.hostPid!;
    await expect(d.detect(input)).rejects.toBeInstanceOf(HostTimeoutError);
    // Killed and reaped: waited for, since a loaded machine takes a while to tear a process down.
    const gone = (): boolean => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    await until(gone, 20_000, `the hung host ${pid} to be gone`);
  });
});

describe('stopping', () => {
  it('a SIGTERM or SIGINT to the whole process group does not kill the inference in flight', async () => {
    const d = await detector(V2_224);
    const pid = d.hostPid!;
    const input = new Uint8Array(224 * 224 * 3).fill(60);
    const inFlight = d.detect(input);
    process.kill(pid, 'SIGTERM');
    process.kill(pid, 'SIGINT');
    const out = await inFlight;
    expect(out.results.length).toBeGreaterThan(0);
    expect(d.hostPid).toBe(pid);
  });
});

describe('createDetector: what inferenceTimeoutMs means on the CPU', () => {
  it('a slow CPU inference is not a hang: with inferenceTimeoutMs 1 the SSD still answers (the CPU gets at least 30 s)', async () => {
    // An SSD takes tens of ms here: before, every inference killed its host.
    const cfg = detectorConfig({ backend: 'cpu', model: { cpu: SSD_V1 }, inferenceTimeoutMs: 1 });
    const d = await createDetector(cfg, silentLogger());
    await d.start();
    try {
      const out = await d.detect(new Uint8Array(300 * 300 * 3).fill(90));
      expect(out.backend).toBe('cpu');
      expect(out.inferenceMs).toBeGreaterThan(1);
    } finally {
      await d.stop();
    }
  });
});
