import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError, isTfliteBuffer, readModel } from '../../src/inference/model/read-model.js';
import { resolveLabels } from '../../src/inference/model/labels.js';
import type { ModelDescription } from '../../src/inference/model/types.js';
import { MODELS, SSD_V1, V1_025, model } from '../helpers/paths.js';

interface RuntimeTensor { name: string; shape: string; dataType: string }
interface Interpreter { getInputs(): RuntimeTensor[]; getOutputs(): RuntimeTensor[] }
const addon = createRequire(import.meta.url)('tfjs-tflite-node/build/Release/node_tflite_binding.node') as {
  Interpreter: new (model: ArrayBuffer, options: { threads: number }) => Interpreter;
};

const tflites = readdirSync(MODELS).filter((f) => f.endsWith('.tflite')).sort();
/** The CPU model an _edgetpu model was compiled from (Coral publishes both). */
const cpuTwin = (file: string) => file.replace(/_edgetpu\.tflite$/, '.tflite');
const CPU_ONLY_FAILURES = new Set(['model_invoking_error.tflite']); // its custom op does not exist anywhere

function runtimeSpecs(file: string): { inputs: RuntimeTensor[]; outputs: RuntimeTensor[] } {
  const bytes = readFileSync(model(file));
  const interpreter = new addon.Interpreter(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), { threads: 1 });
  const plain = (t: RuntimeTensor) => ({ name: t.name, shape: t.shape, dataType: t.dataType });
  return { inputs: interpreter.getInputs().map(plain), outputs: interpreter.getOutputs().map(plain) };
}

const readerSpecs = (d: ModelDescription) => ({
  inputs: d.inputs.map((t) => ({ name: t.name, shape: t.shape.join(','), dataType: t.dataType })),
  outputs: d.outputs.map((t) => ({ name: t.name, shape: t.shape.join(','), dataType: t.dataType })),
});

const described = new Map<string, ModelDescription>();
beforeAll(async () => {
  for (const f of tflites) described.set(f, await readModel(model(f)));
});
const get = (file: string) => described.get(file)!;

describe('every model in ../shared/models', () => {
  it('includes the models these tests are about', () => {
    expect(tflites).toEqual(expect.arrayContaining([path.basename(SSD_V1), path.basename(V1_025), cpuTwin('mobilenet_v1_0.25_128_quant_edgetpu.tflite')]));
    expect(tflites.filter((f) => f.endsWith('_edgetpu.tflite')).length).toBeGreaterThanOrEqual(3);
  });

  it.each(tflites.filter((f) => !f.endsWith('_edgetpu.tflite') && !CPU_ONLY_FAILURES.has(f)))(
    '%s: inputs and outputs agree with the TFLite runtime',
    (file) => {
      expect(readerSpecs(get(file))).toEqual(runtimeSpecs(file));
      expect(get(file).edgetpu).toBe(false);
    },
  );

  it.each(tflites.filter((f) => f.endsWith('_edgetpu.tflite')))(
    '%s: one edgetpu-custom-op with the compiled model, same inputs and outputs as its CPU twin',
    (file) => {
      const d = get(file);
      expect(d.edgetpu).toBe(true);
      expect(() => runtimeSpecs(file)).toThrow(/edgetpu-custom-op/);
      const twin = runtimeSpecs(cpuTwin(file));
      const mine = readerSpecs(d);
      expect(mine.inputs.map((t) => [t.shape, t.dataType])).toEqual(twin.inputs.map((t) => [t.shape, t.dataType]));
      expect(mine.outputs.map((t) => [t.shape, t.dataType])).toEqual(twin.outputs.map((t) => [t.shape, t.dataType]));
      const ops = d.operators.filter((op) => op.customCode === 'edgetpu-custom-op');
      expect(ops).toHaveLength(1);
      expect(ops[0]!.opcode).toBe('CUSTOM');
      // The compiled program and weights live in custom_options: most of the file.
      expect(ops[0]!.customOptionsBytes).toBeGreaterThan(d.sizeBytes / 2);
      expect(d.inputs[0]!.quantization).toEqual(get(cpuTwin(file)).inputs[0]!.quantization);
    },
  );

  it('model_invoking_error.tflite reads, and names its unresolvable custom op', () => {
    const d = get('model_invoking_error.tflite');
    expect(() => runtimeSpecs('model_invoking_error.tflite')).toThrow(/fake-op-double/);
    expect(d.operators.map((op) => op.customCode)).toEqual(['fake-op-double']);
    expect(d.metadata).toBeUndefined();
    expect(d.embeddedFiles.size).toBe(0);
  });
});

describe('quantization', () => {
  it.each(tflites.filter((f) => f.startsWith('mobilenet_')))('%s: Coral classifier output is 1/256, zero point 0', (file) => {
    const out = get(file).outputs[0]!;
    expect(out.shape).toEqual([1, 1001]);
    expect(out.quantization).toEqual({ scale: [0.00390625], zeroPoint: [0], quantizedDimension: 0 });
  });

  it('SSD input is uint8 with scale 1/128 and zero point 128; its outputs are float', () => {
    const d = get(path.basename(SSD_V1));
    expect(d.inputs[0]).toMatchObject({ dataType: 'uint8', quantization: { scale: [0.0078125], zeroPoint: [128] } });
    expect(d.outputs.map((t) => t.dataType)).toEqual(['float32', 'float32', 'float32', 'float32']);
  });
});

describe('embedded labels and metadata', () => {
  it('mobilenet_v1_0.25_128_quant: 1001 ImageNet labels from the zip, line 0 "background"', () => {
    const d = get(path.basename(V1_025));
    expect(d.embeddedLabels).toHaveLength(1001);
    expect(d.embeddedLabels![0]).toBe('background');
    expect(d.embeddedLabels![1]).toBe('tench, Tinca tinca');
    expect(d.embeddedLabels).toEqual(readFileSync(model('imagenet_labels.txt'), 'utf8').trimEnd().split('\n'));
    expect(d.metadata!.name).toBe('ImageClassifier');
    expect(d.metadata!.description).toMatch(/\w/);
    expect(d.metadata!.normalization).toEqual({ mean: [127.5], std: [127.5] });
    expect(d.metadata!.associatedFiles).toEqual([expect.objectContaining({ name: 'imagenet_labels.txt', type: 'TENSOR_AXIS_LABELS' })]);
    const label = resolveLabels({ embedded: d.embeddedLabels, numClasses: 1001, kind: 'classification' });
    expect(label(0)).toBe('background');
    expect(label(1)).toBe('tench, Tinca tinca');
  });

  it('SSD: labelmap.txt on the classes output, 90 lines, class 0 = person, "???" fillers for unused COCO ids', () => {
    const d = get(path.basename(SSD_V1));
    expect(d.metadata).toMatchObject({ name: 'Coco SSD MobileNetV1', version: 'v1', author: 'TensorFlow' });
    expect(d.metadata!.associatedFiles).toEqual([expect.objectContaining({ name: 'labelmap.txt', type: 'TENSOR_VALUE_LABELS' })]);
    expect(d.embeddedLabels).toHaveLength(90);
    expect(d.embeddedLabels![0]).toBe('person');
    expect(d.embeddedLabels![11]).toBe('???');
    const label = resolveLabels({ embedded: d.embeddedLabels, numClasses: 90, kind: 'ssd' });
    expect([0, 1, 11, 12, 89].map(label)).toEqual(['person', 'bicycle', 'class_11', 'stop sign', 'toothbrush']);
    // Coral's coco_labels.txt has the same layout, with "n/a" where the embedded map has "???".
    const coral = readFileSync(model('coco_labels.txt'), 'utf8').trimEnd().split('\n');
    expect(coral.map((l, i) => (l === 'n/a' ? '???' : l) === d.embeddedLabels![i])).not.toContain(false);
  });
});

describe('operators', () => {
  it('mobilenet_v1_0.25_128_quant: 15 CONV_2D (incl. the 1x1 logits), 13 DEPTHWISE_CONV_2D', () => {
    const d = get(path.basename(V1_025));
    const count = (name: string) => d.operators.filter((op) => op.opcode === name).length;
    expect(count('CONV_2D')).toBe(15);
    expect(count('DEPTHWISE_CONV_2D')).toBe(13);
    expect(d.operators.map((op) => op.opcode).slice(-3)).toEqual(['CONV_2D', 'RESHAPE', 'SOFTMAX']);
    expect(d.operators[1]!.opcode).toBe('DEPTHWISE_CONV_2D');
  });

  it('mobilenet_v1_0.25_128_quant: the first conv is 3x3, stride 2, SAME, 8 filters', () => {
    const d = get(path.basename(V1_025));
    const conv = d.operators.find((op) => op.opcode === 'CONV_2D')!;
    expect(conv.inputs[0]).toBe(d.inputs[0]!.index);
    const weights = d.tensors[conv.inputs[1]!]!;
    expect(weights.shape).toEqual([8, 3, 3, 3]);
    expect(weights.dataBytes).toBe(8 * 3 * 3 * 3);
    expect(conv.options).toMatchObject({ padding: 'SAME', strideW: 2, strideH: 2, filterW: 3, filterH: 3, activation: 'RELU6' });
  });

  it('SSD ends in the CUSTOM op TFLite_Detection_PostProcess feeding the four outputs', () => {
    const d = get(path.basename(SSD_V1));
    const post = d.operators.at(-1)!;
    expect(post).toMatchObject({ opcode: 'CUSTOM', builtinCode: 32, customCode: 'TFLite_Detection_PostProcess' });
    expect(post.customOptionsBytes).toBeGreaterThan(0);
    expect(post.outputs).toEqual(d.outputs.map((t) => t.index));
  });
});

describe('errors name the file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'model-errors-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: Buffer | string) => {
    const file = path.join(dir, name);
    writeFileSync(file, data);
    return file;
  };
  const v1 = readFileSync(V1_025);

  async function failure(file: string): Promise<ModelFileError> {
    const err = await readModel(file).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe(file);
    expect((err as Error).message).toContain(file);
    return err as ModelFileError;
  }

  it('a text file is not a TFLite model', async () => {
    const file = write('notes.tflite', 'just some text, long enough to have bytes 4..8\n');
    expect((await failure(file)).message).toBe(`${file} is not a TFLite model (no TFL3 identifier)`);
  });

  it('an empty file', async () => {
    expect((await failure(write('empty.tflite', ''))).message).toMatch(/is empty/);
  });

  it('a missing file', async () => {
    expect((await failure(path.join(dir, 'nope.tflite'))).message).toMatch(/does not exist/);
  });

  it.each([0.5, 0.9, 0.999, 10 / v1.length])('a copy cut at %f of its length is truncated or corrupt', async (fraction) => {
    const file = write(`cut-${fraction}.tflite`, v1.subarray(0, Math.floor(v1.length * fraction)));
    expect((await failure(file)).message).toMatch(/is truncated or corrupt: /);
  });

  it('a copy that lost only its appended zip is truncated, not silently label-less', async () => {
    const zipStart = v1.lastIndexOf(Buffer.from('PK\u0003\u0004', 'latin1'));
    expect(zipStart).toBeGreaterThan(0);
    const file = write('no-zip.tflite', v1.subarray(0, zipStart));
    expect((await failure(file)).message).toMatch(/truncated or corrupt: .*imagenet_labels\.txt/);
  });

  it('random damage to a real model gives ModelFileError or a clean read, never a raw exception', async () => {
    let seed = 7;
    const random = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    const ssd = readFileSync(SSD_V1);
    let failures = 0;
    for (let i = 0; i < 300; i++) {
      const source = i % 2 ? v1 : ssd;
      const copy = Buffer.from(source);
      // The structure (root, vtables, offsets) sits in the first kilobytes; metadata and zip at the end.
      for (let k = 0; k < 4; k++) {
        const at = random(2) ? 8 + random(16384) : copy.length - 1 - random(4096);
        copy[at] = random(256);
      }
      const err = await readModel(copy).then(() => undefined, (e: unknown) => e);
      if (err !== undefined) {
        expect(err).toBeInstanceOf(ModelFileError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(10); // the damage must actually hit something
  });

  it('isTfliteBuffer looks at bytes 4..8', () => {
    expect(isTfliteBuffer(v1)).toBe(true);
    expect(isTfliteBuffer(Buffer.from('1234TFL'))).toBe(false);
    expect(isTfliteBuffer(Buffer.from('xxxxTFL3'))).toBe(true);
    expect(isTfliteBuffer(Buffer.alloc(0))).toBe(false);
  });

  it('a Buffer argument is named in errors too', async () => {
    const err = await readModel(Buffer.from('nonsense')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toBe('<model buffer> is not a TFLite model (no TFL3 identifier)');
  });
});
