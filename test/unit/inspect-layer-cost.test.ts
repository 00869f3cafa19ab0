import { describe, expect, it } from 'vitest';
import type { ModelDescription, ModelTensor, OperatorOptions, OperatorSpec } from '../../src/inference/model/types.js';
import { recogniseFamily } from '../../src/inspect/family.js';
import { modelGraph } from '../../src/inspect/graph.js';
import { costByType, layerCosts, layerName, totalsOf } from '../../src/inspect/layer-cost.js';
import { separablePairs } from '../../src/inspect/separable-pairs.js';

/** A tiny model built op by op: each `op()` call appends an operator and the tensors it names. */
function builder() {
  const tensors: ModelTensor[] = [];
  const operators: OperatorSpec[] = [];
  const tensor = (shape: number[], constant = false, name = `t${tensors.length}`) => {
    tensors.push({ index: tensors.length, name, shape, dataType: 'uint8', buffer: constant ? tensors.length + 1 : 0, dataBytes: constant ? 1 : 0 });
    return tensors.length - 1;
  };
  const op = (opcode: string, inputs: number[], outputs: number[], options?: OperatorOptions, customCode?: string) => {
    operators.push({
      index: operators.length, opcode, builtinCode: 0, version: 1, inputs, outputs,
      ...(options ? { options } : {}), ...(customCode ? { customCode, customOptionsBytes: 1234 } : {}),
    });
  };
  const model = (): ModelDescription => ({
    sizeBytes: 0, schemaVersion: 3, tensors, operators, signatures: [], embeddedFiles: new Map(), edgetpu: false,
    inputs: [tensors[0]!], outputs: [tensors[tensors.length - 1]!],
  });
  return { tensor, op, model };
}

const conv = (kH: number, kW: number, stride = 1): OperatorOptions => ({ padding: 'SAME', strideH: stride, strideW: stride, filterH: kH, filterW: kW });

describe('layerCosts: the counting convention', () => {
  it('conv: outH*outW*kH*kW*inC*outC; depthwise: outH*outW*kH*kW*C*multiplier; FC: in*out; biases are parameters', () => {
    const b = builder();
    const x = b.tensor([1, 16, 16, 3]);
    const c1 = b.tensor([1, 8, 8, 4]);
    b.op('CONV_2D', [x, b.tensor([4, 3, 3, 3], true), b.tensor([4], true)], [c1], conv(3, 3, 2));
    const d1 = b.tensor([1, 8, 8, 8]);
    b.op('DEPTHWISE_CONV_2D', [c1, b.tensor([1, 3, 3, 8], true), b.tensor([8], true)], [d1], { ...conv(3, 3), depthMultiplier: 2 });
    const f = b.tensor([1, 10]);
    b.op('FULLY_CONNECTED', [d1, b.tensor([10, 512], true), -1], [f]);
    const [c, d, fc] = layerCosts(b.model());
    expect(c).toMatchObject({ type: 'conv', kernel: [3, 3], stride: [2, 2], macs: 8 * 8 * 3 * 3 * 3 * 4, params: 4 * 27 + 4 });
    expect(d).toMatchObject({ type: 'depthwise', macs: 8 * 8 * 3 * 3 * 4 * 2, params: 72 + 8 });
    expect(fc).toMatchObject({ type: 'fullyConnected', macs: 512 * 10, params: 5120 }); // absent bias (-1) is skipped
  });

  it('a grouped conv counts inC/groups (the weights\' last dimension), a 1x1 conv is conv1x1', () => {
    const b = builder();
    const x = b.tensor([1, 4, 4, 8]);
    const y = b.tensor([1, 4, 4, 8]);
    b.op('CONV_2D', [x, b.tensor([8, 1, 1, 2], true), b.tensor([8], true)], [y], conv(1, 1)); // 4 groups
    expect(layerCosts(b.model())[0]).toMatchObject({ type: 'conv1x1', macs: 4 * 4 * 2 * 8, params: 16 + 8 });
  });

  it('pooling, add, reshape, softmax and custom ops are listed with 0 mult-adds', () => {
    const b = builder();
    const x = b.tensor([1, 4, 4, 8]);
    const p = b.tensor([1, 1, 1, 8]);
    b.op('AVERAGE_POOL_2D', [x], [p], { padding: 'VALID', strideH: 1, strideW: 1, filterH: 4, filterW: 4 });
    const a = b.tensor([1, 1, 1, 8]);
    b.op('ADD', [p, p], [a]);
    const s = b.tensor([1, 8]);
    b.op('CUSTOM', [a], [s], undefined, 'TFLite_Detection_PostProcess');
    const layers = layerCosts(b.model());
    expect(layers.map((l) => [l.op, l.type, l.macs, l.params])).toEqual([
      ['AVERAGE_POOL_2D', 'other', 0, 0],
      ['ADD', 'other', 0, 0],
      ['TFLite_Detection_PostProcess', 'other', 0, 0],
    ]);
    expect(layers[0]!.kernel).toEqual([4, 4]);
  });

  it('an edgetpu-custom-op hides its cost (null) and reports its payload; totals become unknown', () => {
    const b = builder();
    const x = b.tensor([1, 8, 8, 3]);
    b.op('CUSTOM', [x], [b.tensor([1, 10])], undefined, 'edgetpu-custom-op');
    const layers = layerCosts(b.model());
    expect(layers[0]).toMatchObject({ op: 'edgetpu-custom-op', macs: null, params: null, payloadBytes: 1234 });
    expect(totalsOf(layers)).toEqual({ macs: null, params: null });
  });

  it('a weight tensor shared by two operators counts once', () => {
    const b = builder();
    const x = b.tensor([1, 2, 2, 4]);
    const w = b.tensor([4, 1, 1, 4], true);
    const y = b.tensor([1, 2, 2, 4]);
    b.op('CONV_2D', [x, w, -1], [y], conv(1, 1));
    b.op('CONV_2D', [y, w, -1], [b.tensor([1, 2, 2, 4])], conv(1, 1));
    expect(totalsOf(layerCosts(b.model()))).toEqual({ macs: 2 * 64, params: 16 });
  });

  it('shares are fractions of the totals and sum to 1', () => {
    const b = builder();
    const x = b.tensor([1, 4, 4, 2]);
    const y = b.tensor([1, 4, 4, 2]);
    b.op('DEPTHWISE_CONV_2D', [x, b.tensor([1, 3, 3, 2], true), -1], [y], { ...conv(3, 3), depthMultiplier: 1 });
    b.op('CONV_2D', [y, b.tensor([6, 1, 1, 2], true), -1], [b.tensor([1, 4, 4, 6])], conv(1, 1));
    const by = costByType(layerCosts(b.model()));
    expect(by.depthwise.macs).toBe(16 * 9 * 2);
    expect(by.conv1x1.macs).toBe(16 * 2 * 6);
    expect(by.depthwise.macsShare + by.conv1x1.macsShare).toBeCloseTo(1, 12);
    expect(by.fullyConnected).toEqual({ layers: 0, macs: 0, params: 0, macsShare: 0, paramsShare: 0 });
  });
});

describe('separablePairs', () => {
  it('prices a 5x5 depthwise + 1x1 pair against one standard 5x5 conv: 1/N + 1/25', () => {
    const b = builder();
    const x = b.tensor([1, 10, 10, 16]);
    const y = b.tensor([1, 5, 5, 16]);
    b.op('DEPTHWISE_CONV_2D', [x, b.tensor([1, 5, 5, 16], true), -1], [y], { ...conv(5, 5, 2), depthMultiplier: 1 });
    b.op('CONV_2D', [y, b.tensor([32, 1, 1, 16], true), -1], [b.tensor([1, 5, 5, 32])], conv(1, 1));
    const model = b.model();
    const [p] = separablePairs(layerCosts(model), modelGraph(model));
    expect(p).toMatchObject({ depthwise: 0, pointwise: 1, kernel: [5, 5], inChannels: 16, outChannels: 32, standardMacs: 25 * 25 * 16 * 32 });
    expect(p!.reduction).toBeCloseTo(1 / 32 + 1 / 25, 12);
  });

  it('a depthwise conv read by two operators is no pair', () => {
    const b = builder();
    const x = b.tensor([1, 4, 4, 4]);
    const y = b.tensor([1, 4, 4, 4]);
    b.op('DEPTHWISE_CONV_2D', [x, b.tensor([1, 3, 3, 4], true), -1], [y], { ...conv(3, 3), depthMultiplier: 1 });
    b.op('CONV_2D', [y, b.tensor([4, 1, 1, 4], true), -1], [b.tensor([1, 4, 4, 4])], conv(1, 1));
    b.op('ADD', [y, y], [b.tensor([1, 4, 4, 4])]);
    const model = b.model();
    expect(separablePairs(layerCosts(model), modelGraph(model))).toEqual([]);
  });
});

describe('recogniseFamily', () => {
  it('calls a short stack of separable pairs unknown rather than guessing', () => {
    const b = builder();
    let x = b.tensor([1, 8, 8, 8]);
    for (let i = 0; i < 3; i++) {
      const y = b.tensor([1, 8, 8, 8]);
      b.op('DEPTHWISE_CONV_2D', [x, b.tensor([1, 3, 3, 8], true), -1], [y], { ...conv(3, 3), depthMultiplier: 1 });
      x = b.tensor([1, 8, 8, 8]);
      b.op('CONV_2D', [y, b.tensor([8, 1, 1, 8], true), -1], [x], conv(1, 1));
    }
    const model = b.model();
    const layers = layerCosts(model);
    const graph = modelGraph(model);
    expect(recogniseFamily(layers, graph, separablePairs(layers, graph), [1, 8, 8, 8])).toEqual({
      family: 'unknown', backbone: null, alpha: null, resolution: 8,
    });
  });
});

describe('layerName', () => {
  it('keeps the first of the converter\'s fused names and drops activation suffixes', () => {
    expect(layerName('MobilenetV1/MobilenetV1/Conv2d_1_depthwise/Relu6;MobilenetV1/x/add_fold')).toBe('MobilenetV1/MobilenetV1/Conv2d_1_depthwise');
    expect(layerName('BoxPredictor_0/ClassPredictor/BiasAdd')).toBe('BoxPredictor_0/ClassPredictor');
    expect(layerName('concat')).toBe('concat');
  });
});
