import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectCommand } from '../../src/cli/inspect.js';
import { inspectMobilenetV1, inspectModelFile } from '../../src/inspect/inspect-model.js';
import type { InspectReport } from '../../src/inspect/types.js';
import { SSD_V1, V1_025, V2_224, model } from '../helpers/paths.js';
import { captureIo } from '../helpers/cli.js';

const V1_05 = model('mobilenet_v1_0.5_160_quant.tflite');
const V1_075 = model('mobilenet_v1_0.75_192_quant.tflite');
const edgetpu = (file: string) => model(file.replace(/\.tflite$/, '_edgetpu.tflite'));

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+/);
const within = (measured: number | null, published: number, tolerance = 0.05) =>
  expect(Math.abs(measured! / published - 1), `${measured} vs ${published}`).toBeLessThan(tolerance);

const reports = new Map<string, InspectReport>();
beforeAll(async () => {
  for (const f of [V1_025, V1_05, V1_075, V2_224, SSD_V1]) reports.set(f, await inspectModelFile(f));
});
const report = (f: string) => reports.get(f)!;

describe('inspect on the published models (TF-slim\'s table; the file\'s classifier has 1001 classes)', () => {
  it.each([
    [V1_025, 14e6, 0.47e6],
    [V1_05, 76e6, 1.32e6],
    [V1_075, 233e6, 2.59e6],
    [V2_224, 300e6, 3.47e6],
  ])('%s: totals within 5% of the published mult-adds and parameters', (file, macs, params) => {
    within(report(file).totals.macs, macs);
    within(report(file).totals.params, params);
  });

  it.each([
    [V1_025, 'MobileNet v1', 0.25, 128],
    [V1_05, 'MobileNet v1', 0.5, 160],
    [V1_075, 'MobileNet v1', 0.75, 192],
    [V2_224, 'MobileNet v2', 1.0, 224],
  ])('%s is recognised as %s, alpha %s, %s pixels', (file, family, alpha, resolution) => {
    expect(report(file)).toMatchObject({ family, alpha, resolution });
  });

  it('the COCO SSD is an SSD head on MobileNet v1 at 300 (its backbone is 0.75 wide despite the "1.0" in its name)', () => {
    const r = report(SSD_V1);
    expect(r).toMatchObject({ family: 'SSD head on MobileNet v1', resolution: 300, alpha: 0.75 });
    expect(r.layers.at(-1)).toMatchObject({ op: 'TFLite_Detection_PostProcess', type: 'other', macs: 0 });
    expect(r.separablePairs).toHaveLength(13); // the backbone's; the SSD extra layers are full 3x3 convs
    expect(r.byType.conv.layers).toBe(5);
  });

  it('the analytic model with 1001 classes prices a v1 file exactly: same convention, same shapes', () => {
    for (const [file, alpha, resolution] of [[V1_025, 0.25, 128], [V1_05, 0.5, 160], [V1_075, 0.75, 192]] as const) {
      expect(inspectMobilenetV1({ alpha, resolution, classes: 1001 }).totals).toEqual(report(file).totals);
    }
  });

  it('every 3x3 separable pair of every model reduces the cost by 1/N + 1/9', () => {
    for (const r of reports.values()) {
      expect(r.separablePairs.length).toBeGreaterThan(0);
      for (const p of r.separablePairs) {
        expect(p.kernel).toEqual([3, 3]);
        expect(p.reduction).toBeCloseTo(1 / p.outChannels + 1 / 9, 6);
      }
    }
  });

  it('per-operator rows: shapes, kernel, stride, padding, mult-adds and parameters', () => {
    const { layers } = report(V1_025);
    expect(layers).toHaveLength(31);
    expect(layers[0]).toMatchObject({
      op: 'CONV_2D', type: 'conv', input: [1, 128, 128, 3], output: [1, 64, 64, 8], kernel: [3, 3], stride: [2, 2], padding: 'SAME',
      macs: 64 * 64 * 27 * 8, params: 27 * 8 + 8,
    });
    // The classifier is a 1x1 conv in the file, so it counts as one (not as a fully connected layer).
    expect(layers[28]).toMatchObject({ op: 'CONV_2D', type: 'conv1x1', macs: 256 * 1001, params: 256 * 1001 + 1001 });
    expect(layers.slice(27).map((l) => l.op)).toEqual(['AVERAGE_POOL_2D', 'CONV_2D', 'RESHAPE', 'SOFTMAX']);
    expect(report(V2_224).byType.other.layers).toBe(13); // 10 residual ADDs, pool, reshape, softmax
  });

  it('quantization and metadata come from the file', () => {
    const r = report(V1_025);
    expect(r.quantization).toMatchObject({ weights: 'uint8', activations: 'uint8', granularity: 'per-tensor', input: { scale: 0.0078125, zeroPoint: 128 } });
    expect(r.metadata).toMatchObject({ name: 'ImageClassifier', normalization: { mean: [127.5], std: [127.5] }, labels: { count: 1001 } });
    expect(r.metadata!.labels!.first[0]).toBe('background');
    expect(report(SSD_V1).metadata).toMatchObject({ labels: { count: 90, first: ['person', 'bicycle', 'car', 'motorcycle', 'airplane'] } });
  });
});

describe('inspect on _edgetpu models', () => {
  it.each([V1_025, V1_05, V1_075])('%s: one custom op, its payload size, and the twin\'s cost for what runs on the TPU', async (cpu) => {
    const r = await inspectModelFile(edgetpu(cpu));
    const twin = report(cpu);
    expect(r.layers).toHaveLength(1);
    expect(r.layers[0]).toMatchObject({ op: 'edgetpu-custom-op', runsOn: 'tpu', macs: twin.totals.macs, params: twin.totals.params });
    expect(r.edgetpu!.customOps).toHaveLength(1);
    expect(r.edgetpu!.customOps[0]!.payloadBytes).toBeGreaterThan(0.5 * twin.sizeBytes!);
    expect(r.edgetpu).toMatchObject({ cpuOps: [], twin: cpu, tpuMacs: twin.totals.macs });
    expect(r).toMatchObject({ family: twin.family, alpha: twin.alpha, resolution: twin.resolution, totals: twin.totals });
    expect(r.costFrom).toContain('CPU twin');
  });

  it('names the payload size exactly (custom_options of the op)', async () => {
    const r = await inspectModelFile(edgetpu(V1_025));
    expect(r.edgetpu!.customOps[0]!.payloadBytes).toBe(778_324);
    const io = captureIo();
    expect(await inspectCommand([edgetpu(V1_025)], io)).toBe(0);
    expect(io.out()).toContain('1 edgetpu-custom-op, compiled payload 778,324 bytes');
    expect(io.out()).toContain('on the CPU: nothing, the whole graph runs on the TPU');
  });

  it('without the twin beside it, says the cost is not visible (null), never zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-inspect-'));
    const lone = join(dir, 'mobilenet_v1_0.5_160_quant_edgetpu.tflite');
    copyFileSync(edgetpu(V1_05), lone);
    const r = await inspectModelFile(lone);
    expect(r.totals).toEqual({ macs: null, params: null });
    expect(r.layers[0]).toMatchObject({ macs: null, params: null, payloadBytes: 1_720_404 });
    expect(r.edgetpu).toMatchObject({ twin: null, tpuMacs: null });
    expect(r.costFrom).toMatch(/not visible.*no CPU twin \(mobilenet_v1_0\.5_160_quant\.tflite\)/);
    const io = captureIo();
    expect(await inspectCommand([lone, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out()).totals).toEqual({ macs: null, params: null });
  });
});

describe('inspect: files it cannot use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'me-inspect-bad-'));

  it('a missing file: exit 66, one line naming it', async () => {
    const io = captureIo();
    const missing = join(dir, 'nope.tflite');
    expect(await inspectCommand([missing], io)).toBe(66);
    expect(io.err()).toBe(`error: ${missing}: no such file\n`);
    expect(io.out()).toBe('');
  });

  it.each([
    ['notes.tflite', Buffer.from('hello, not a model'), /notes\.tflite is not a TFLite model/],
    ['empty.tflite', Buffer.alloc(0), /empty\.tflite is empty/],
    ['cut.tflite', readFileSync(V2_224).subarray(0, 3000), /cut\.tflite is truncated or corrupt/],
  ])('%s: exit 65, one line naming the file, no stack', async (name, bytes, message) => {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const io = captureIo();
    expect(await inspectCommand([file, '--json'], io)).toBe(65);
    expect(io.err()).toMatch(message);
    expect(io.err().trim().split('\n')).toHaveLength(1);
    noStack(io.err());
    expect(io.out()).toBe('');
  });

  it('a directory is an unusable input (65)', async () => {
    const io = captureIo();
    expect(await inspectCommand([dir], io)).toBe(65);
    expect(io.err()).toContain('is a directory');
  });

  it('a valid model with only an unknown custom op is inspected, not refused', async () => {
    const io = captureIo();
    expect(await inspectCommand([model('model_invoking_error.tflite'), '--json'], io)).toBe(0);
    const r = JSON.parse(io.out());
    expect(r).toMatchObject({ family: 'unknown', totals: { macs: 0, params: 0 } });
    expect(r.layers[0].op).toBe('fake-op-double');
  });
});

describe('inspect --measure', () => {
  it('times the model here and estimates which MobileNet v1 sizes fit a frame rate', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, isTTY: false } as never;
    const code = await inspectCommand([model('mobilenet_v1_0.25_128_quant.tflite'), '--measure', '--seconds', '1', '--fps', '30', '--json'], io);
    expect(code).toBe(0);
    const r = JSON.parse(out.join(''));
    expect(r.measured.inferenceMsP50).toBeGreaterThan(0);
    expect(r.measured.msPerMMacs).toBeCloseTo(r.measured.inferenceMsP50 / (r.totals.macs / 1e6), 6);
    expect(r.budget.fps).toBe(30);
    expect(r.budget.rows).toHaveLength(16);
    // Cost grows with width and resolution, so whatever fits, everything smaller fits too.
    for (const a of r.budget.rows) for (const b of r.budget.rows) if (b.alpha <= a.alpha && b.resolution <= a.resolution && a.fits) expect(b.fits).toBe(true);
    const own = r.budget.rows.find((x: { alpha: number; resolution: number }) => x.alpha === 0.25 && x.resolution === 128);
    expect(own.predictedMs).toBeCloseTo(r.measured.inferenceMsP50, 0);
  });

  it('refuses an Edge TPU build (it cannot run on the CPU)', async () => {
    const err: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) }, isTTY: false } as never;
    expect(await inspectCommand([model('mobilenet_v1_0.25_128_quant_edgetpu.tflite'), '--measure'], io)).toBe(65);
    expect(err.join('')).toMatch(/give the CPU twin/);
  });
});
