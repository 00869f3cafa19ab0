import { Builder } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { FlatbufferBoundsError } from '../../src/inference/model/flatbuffer-table.js';
import { readTfliteModel } from '../../src/inference/model/tflite-schema.js';
import { BUILTIN_OPERATOR_COUNT, builtinOperatorName, tensorDataType } from '../../src/inference/model/tflite-enums.js';
import { associatedFilesByPriority, readModelMetadata, summarizeMetadata } from '../../src/inference/model/metadata.js';
import { ModelFileError, readModel } from '../../src/inference/model/read-model.js';

/*
 * Synthetic models written with the flatbuffers Builder by field number, independently of the reader,
 * so that every slot the reader uses is checked against the schema's field order.
 */

type Field = { i8: number } | { i32: number } | { u64: bigint } | { off: number };

function table(b: Builder, fields: Partial<Record<number, Field>>): number {
  b.startObject(Math.max(...Object.keys(fields).map(Number)) + 1);
  for (const [key, f] of Object.entries(fields) as [string, Field][]) {
    const slot = Number(key);
    // A null default makes the builder write the value even when it equals the schema default.
    if ('i8' in f) b.addFieldInt8(slot, f.i8, null);
    else if ('i32' in f) b.addFieldInt32(slot, f.i32, null);
    else if ('u64' in f) b.addFieldInt64(slot, f.u64, null);
    else b.addFieldOffset(slot, f.off, 0);
  }
  return b.endObject();
}

function vec(b: Builder, size: number, items: number[], add: (v: number) => void): number {
  b.startVector(size, items.length, size);
  for (let i = items.length - 1; i >= 0; i--) add(items[i]!);
  return b.endVector();
}
const ints = (b: Builder, xs: number[]) => vec(b, 4, xs, (v) => b.addInt32(v));
const floats = (b: Builder, xs: number[]) => vec(b, 4, xs, (v) => b.addFloat32(v));
const longs = (b: Builder, xs: number[]) => vec(b, 8, xs, (v) => b.addInt64(BigInt(v)));
const offsets = (b: Builder, xs: number[]) => vec(b, 4, xs, (v) => b.addOffset(v));
const str = (b: Builder, s: string) => b.createString(s);

function buildModel(): Uint8Array {
  const b = new Builder(1024);
  const codes = [
    table(b, { 0: { i8: 3 }, 2: { i32: 2 } }), // old writer: CONV_2D in the byte field only
    table(b, { 0: { i8: 127 }, 3: { i32: 150 } }), // GELU needs the int32 field
    table(b, { 0: { i8: 127 }, 3: { i32: 999 } }), // from a future schema
    table(b, { 0: { i8: 32 }, 1: { off: str(b, 'my-op') } }),
    table(b, { 0: { i8: 4 }, 3: { i32: 4 } }),
  ];
  const quant = (scale: number[], zp: number[], dim: number) =>
    table(b, { 2: { off: floats(b, scale) }, 3: { off: longs(b, zp) }, 6: { i32: dim } });
  const tensor = (shape: number[], type: number, buffer: number, name: string, q?: number) =>
    table(b, { 0: { off: ints(b, shape) }, 1: { i8: type }, 2: { i32: buffer }, 3: { off: str(b, name) }, ...(q ? { 4: { off: q } } : {}) });
  const tensors = [
    tensor([1, 8, 8, 3], 9, 0, 'input', quant([0.5], [-128], 0)),
    tensor([4, 5, 3, 3], 9, 1, 'weights', quant([0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0], 0)),
    tensor([1, 4, 4, 4], 0, 0, 'conv', table(b, { 2: { off: floats(b, []) } })),
    tensor([1, 4, 4, 4], 0, 0, 'gelu'),
    tensor([1, 3, 3, 4], 0, 2, 'dw weights'),
  ];
  // Conv2DOptions: padding VALID, stride_w 2, stride_h 3, RELU6, dilation_w absent (default 1), dilation_h 2.
  const conv = table(b, { 0: { i8: 1 }, 1: { i32: 2 }, 2: { i32: 3 }, 3: { i8: 3 }, 5: { i32: 2 } });
  // DepthwiseConv2DOptions: SAME, stride 1/1, depth_multiplier 1, RELU, dilation_w 2.
  const dw = table(b, { 0: { i8: 0 }, 1: { i32: 1 }, 2: { i32: 1 }, 3: { i32: 1 }, 4: { i8: 1 }, 5: { i32: 2 } });
  const op = (opcode: number, inputs: number[], outputs: number[], extra: Record<number, Field> = {}) =>
    table(b, { 0: { i32: opcode }, 1: { off: ints(b, inputs) }, 2: { off: ints(b, outputs) }, ...extra });
  const operators = [
    op(0, [0, 1, -1], [2], { 3: { i8: 1 }, 4: { off: conv } }),
    op(1, [2], [3]),
    op(2, [3], [3]),
    op(3, [3], [3], { 5: { off: b.createByteVector(new Uint8Array([1, 2, 3])) } }),
    op(4, [3, 4], [3], { 3: { i8: 2 }, 4: { off: dw } }),
  ];
  const subgraph = table(b, {
    0: { off: offsets(b, tensors) }, 1: { off: ints(b, [0]) }, 2: { off: ints(b, [3]) },
    3: { off: offsets(b, operators) }, 4: { off: str(b, 'main') },
  });
  const buffers = [
    table(b, { 0: { off: b.createByteVector(new Uint8Array(0)) } }),
    table(b, { 0: { off: b.createByteVector(new Uint8Array(180).fill(7)) } }),
    table(b, { 1: { u64: 16n }, 2: { u64: 36n } }), // stored outside the flatbuffer (2 GB+ models)
  ];
  const tensorMap = (name: string, index: number) => table(b, { 0: { off: str(b, name) }, 1: { i32: index } });
  const signature = table(b, {
    0: { off: offsets(b, [tensorMap('x', 0)]) }, 1: { off: offsets(b, [tensorMap('y', 3)]) },
    2: { off: str(b, 'serving_default') }, 4: { i32: 0 },
  });
  const metadata = table(b, { 0: { off: str(b, 'min_runtime_version') }, 1: { i32: 0 } });
  const model = table(b, {
    0: { i32: 3 }, 1: { off: offsets(b, codes) }, 2: { off: offsets(b, [subgraph]) }, 3: { off: str(b, 'synthetic') },
    4: { off: offsets(b, buffers) }, 6: { off: offsets(b, [metadata]) }, 7: { off: offsets(b, [signature]) },
  });
  b.finish(model, 'TFL3');
  return b.asUint8Array().slice();
}

describe('enums transcribed from schema.fbs', () => {
  it('names builtin codes by value and unknown ones UNKNOWN_<n>', () => {
    expect(BUILTIN_OPERATOR_COUNT).toBe(210);
    const anchors: [number, string][] = [[0, 'ADD'], [3, 'CONV_2D'], [4, 'DEPTHWISE_CONV_2D'], [5, 'DEPTH_TO_SPACE'],
      [9, 'FULLY_CONNECTED'], [22, 'RESHAPE'], [25, 'SOFTMAX'], [32, 'CUSTOM'], [51, 'DELEGATE'], [67, 'TRANSPOSE_CONV'],
      [101, 'ABS'], [114, 'QUANTIZE'], [117, 'HARD_SWISH'], [127, 'PLACEHOLDER_FOR_GREATER_OP_CODES'], [150, 'GELU'],
      [161, 'RIGHT_SHIFT'], [162, 'STABLEHLO_LOGISTIC'], [203, 'DILATE'], [209, 'STABLEHLO_CASE']];
    for (const [code, name] of anchors) expect(builtinOperatorName(code)).toBe(name);
    expect(builtinOperatorName(210)).toBe('UNKNOWN_210');
  });

  it('maps tensor types to the runtime names', () => {
    expect([0, 2, 3, 9, 10, 13].map(tensorDataType)).toEqual(['float32', 'int32', 'uint8', 'int8', 'float64', 'unknown']);
  });
});

describe('readTfliteModel on a synthetic model', () => {
  const bytes = buildModel();
  const raw = readTfliteModel(bytes);

  it('reads operator codes as max(deprecated_builtin_code, builtin_code)', () => {
    expect(raw.operatorCodes.map((c) => c.builtinCode)).toEqual([3, 150, 999, 32, 4]);
    expect(raw.operatorCodes[0]!.version).toBe(2);
    expect(raw.operatorCodes[1]!.version).toBe(1); // schema default
    expect(raw.operatorCodes[3]!.customCode).toBe('my-op');
  });

  it('reads tensors, int64 zero points and per-channel scales', () => {
    const [input, weights, conv] = raw.subgraphs[0]!.tensors;
    expect(input).toMatchObject({ shape: [1, 8, 8, 3], type: 9, buffer: 0, name: 'input' });
    expect(input!.quantization).toEqual({ scale: [0.5], zeroPoint: [-128], quantizedDimension: 0 });
    expect(weights!.quantization!.scale).toHaveLength(4);
    expect(weights!.quantization!.scale[3]).toBeCloseTo(0.4, 6);
    expect(conv!.quantization).toBeUndefined(); // an empty table is no quantization
  });

  it('reads builtin options through the union (type slot, then value slot)', () => {
    const ops = raw.subgraphs[0]!.operators;
    expect(ops[0]!.options).toEqual({
      padding: 'VALID', strideW: 2, strideH: 3, activation: 'RELU6', dilationW: 1, dilationH: 2,
    });
    expect(ops[0]!.inputs).toEqual([0, 1, -1]);
    expect(ops[4]!.options).toEqual({
      padding: 'SAME', strideW: 1, strideH: 1, depthMultiplier: 1, activation: 'RELU', dilationW: 2, dilationH: 1,
    });
    expect(ops[1]!.options).toBeUndefined();
    expect(ops[3]!.customOptionsBytes).toBe(3);
  });

  it('reads buffers, metadata and signatures', () => {
    expect(raw.version).toBe(3);
    expect(raw.description).toBe('synthetic');
    expect(raw.buffers.map((x) => [x.data.length, x.offset, x.size])).toEqual([[0, 0, 0], [180, 0, 0], [0, 16, 36]]);
    expect(raw.metadata).toEqual([{ name: 'min_runtime_version', buffer: 0 }]);
    expect(raw.signatureDefs).toEqual([{
      key: 'serving_default', subgraphIndex: 0, inputs: [{ name: 'x', tensorIndex: 0 }], outputs: [{ name: 'y', tensorIndex: 3 }],
    }]);
  });

  it('describes it through readModel', async () => {
    const d = await readModel(Buffer.from(bytes));
    expect(d.operators.map((o) => o.opcode)).toEqual(['CONV_2D', 'GELU', 'UNKNOWN_999', 'CUSTOM', 'DEPTHWISE_CONV_2D']);
    expect(d.operators[3]).toMatchObject({ customCode: 'my-op', customOptionsBytes: 3 });
    // Kernel size comes from the weights: [O, H, W, I] and depthwise [1, H, W, C].
    expect(d.operators[0]!.options).toMatchObject({ filterH: 5, filterW: 3 });
    expect(d.operators[4]!.options).toMatchObject({ filterH: 3, filterW: 3 });
    expect(d.tensors.map((t) => t.dataBytes)).toEqual([0, 180, 0, 0, 36]);
    expect(d.inputs.map((t) => t.name)).toEqual(['input']);
    expect(d.outputs.map((t) => t.name)).toEqual(['gelu']);
    expect(d.signatures).toEqual([{ key: 'serving_default', inputs: [{ name: 'x', tensorIndex: 0 }], outputs: [{ name: 'y', tensorIndex: 3 }] }]);
    expect(d.edgetpu).toBe(false);
    expect(d.embeddedFiles.size).toBe(0);
    expect(d.metadata).toBeUndefined();
  });

  it('never decodes a truncated buffer into something different', () => {
    const full = JSON.stringify(raw);
    for (let cut = 0; cut < bytes.length; cut++) {
      let result: string | undefined;
      try {
        result = JSON.stringify(readTfliteModel(bytes.subarray(0, cut)));
      } catch (err) {
        expect(err).toBeInstanceOf(FlatbufferBoundsError);
        continue;
      }
      // Only the final padding or a string's NUL terminator may go without changing anything.
      expect(cut).toBeGreaterThan(bytes.length - 4);
      expect(result).toBe(full);
    }
  });

  it('rejects a vtable entry that points past the end of its table', () => {
    const copy = Buffer.from(bytes);
    const root = copy.readUInt32LE(0);
    const vtable = root - copy.readInt32LE(root);
    copy.writeUInt16LE(0xfff0, vtable + 4); // Model.version
    expect(() => readTfliteModel(copy)).toThrow(FlatbufferBoundsError);
    expect(() => readTfliteModel(copy)).toThrow(/Model field 0 runs past the end of its table/);
  });

  it('turns random corruption into ModelFileError or a clean read, never a raw exception', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const copy = Buffer.from(bytes);
      for (let k = 0; k < 3; k++) copy[8 + Math.floor(random() * (copy.length - 8))] = Math.floor(random() * 256);
      const err = await readModel(copy).then(() => undefined, (e: unknown) => e);
      if (err !== undefined) expect(err).toBeInstanceOf(ModelFileError);
    }
  });
});

function buildMetadata(): Uint8Array {
  const b = new Builder(512);
  const file = (name: string, type: number, description?: string) =>
    table(b, { 0: { off: str(b, name) }, ...(description ? { 1: { off: str(b, description) } } : {}), 2: { i8: type } });
  const normalization = table(b, { 0: { off: floats(b, [127.5, 127.5, 127.5]) }, 1: { off: floats(b, [128, 128, 128]) } });
  const unit = table(b, { 0: { i8: 1 }, 1: { off: normalization } }); // ProcessUnit: options union (type, value)
  const input = table(b, { 0: { off: str(b, 'image') }, 4: { off: offsets(b, [unit]) } });
  const output0 = table(b, { 0: { off: str(b, 'boxes') } });
  const output1 = table(b, { 0: { off: str(b, 'classes') }, 6: { off: offsets(b, [file('labels.txt', 3, 'COCO')]) } });
  const sub = table(b, {
    2: { off: offsets(b, [input]) }, 3: { off: offsets(b, [output0, output1]) },
    4: { off: offsets(b, [file('calib.csv', 4)]) },
  });
  const meta = table(b, {
    0: { off: str(b, 'Test model') }, 1: { off: str(b, 'Finds things') }, 2: { off: str(b, 'v7') },
    3: { off: offsets(b, [sub]) }, 4: { off: str(b, 'me') }, 5: { off: str(b, 'MIT') },
    6: { off: offsets(b, [file('readme.txt', 1), file('future.bin', 9)]) },
  });
  b.finish(meta, 'M001');
  return b.asUint8Array().slice();
}

describe('readModelMetadata on synthetic metadata', () => {
  const meta = readModelMetadata(buildMetadata());

  it('reads names, normalization and associated files at every level', () => {
    expect(meta).toMatchObject({ name: 'Test model', description: 'Finds things', version: 'v7', author: 'me', license: 'MIT' });
    expect(meta.subgraphs[0]!.inputs[0]!.normalization).toEqual({ mean: [127.5, 127.5, 127.5], std: [128, 128, 128] });
    expect(meta.subgraphs[0]!.outputs[1]!.associatedFiles).toEqual([
      { name: 'labels.txt', type: 'TENSOR_VALUE_LABELS', description: 'COCO' },
    ]);
  });

  it('orders files nearest to the outputs first and names unknown types', () => {
    expect(associatedFilesByPriority(meta).map((f) => `${f.name}:${f.type}`)).toEqual([
      'labels.txt:TENSOR_VALUE_LABELS', 'calib.csv:TENSOR_AXIS_SCORE_CALIBRATION', 'readme.txt:DESCRIPTIONS', 'future.bin:UNKNOWN_9',
    ]);
    expect(summarizeMetadata(meta).normalization).toEqual({ mean: [127.5, 127.5, 127.5], std: [128, 128, 128] });
  });
});
