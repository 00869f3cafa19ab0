import type { ModelDescription, ModelTensor, OperatorSpec } from '../inference/model/types.js';
import { LAYER_TYPES, type LayerCost, type LayerType, type TypeCost } from './types.js';

/*
 * Counting convention (the MobileNet paper's, checked against its Table 2 and TF-slim's table):
 *   conv        outH*outW*kH*kW*(inC/groups)*outC   (the weights' last dimension already is inC/groups)
 *   depthwise   outH*outW*kH*kW*C*depthMultiplier   (= outH*outW*kH*kW*outC)
 *   FC          in*out (per row of a batch)
 *   pooling, add, reshape, softmax, concatenation, post-processing: 0 mult-adds; listed, never counted.
 * Parameters are elements of the weight and bias tensors (from their shapes, not bytes); the BatchNorm
 * that TFLite folds into a conv's bias therefore counts as one bias per output channel.
 * A 1x1 classifier convolution is a conv1x1, not a fully connected layer: we classify what the file holds.
 */

export const EDGETPU_CUSTOM_OP = 'edgetpu-custom-op';

const product = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

/** Strips the converter's fused-name tail (";..."), and activation suffixes that say nothing about the layer. */
export function layerName(tensorName: string): string {
  return tensorName.split(';')[0]!.replace(/\/(Relu6|Relu|add_fold|BiasAdd|Conv2D)$/, '');
}

function weightsCost(op: OperatorSpec, tensor: (i: number | undefined) => ModelTensor | undefined, counted: Set<number>): number {
  // Bias (input 2) is optional: -1 when absent. A tensor shared by two operators counts once.
  let params = 0;
  for (const i of [op.inputs[1], op.inputs[2]]) {
    const t = tensor(i);
    if (!t || counted.has(t.index)) continue;
    counted.add(t.index);
    params += product(t.shape);
  }
  return params;
}

function typeOf(opcode: string, kernel: [number, number] | undefined): LayerType {
  if (opcode === 'DEPTHWISE_CONV_2D') return 'depthwise';
  if (opcode === 'FULLY_CONNECTED') return 'fullyConnected';
  if (opcode === 'CONV_2D') return kernel && kernel[0] === 1 && kernel[1] === 1 ? 'conv1x1' : 'conv';
  return 'other';
}

/** Mult-adds of one operator from its tensor shapes; 0 for the operators that have none in the paper's sense. */
function macsOf(opcode: string, output: number[], weights: number[] | undefined): number {
  if (!weights) return 0;
  const [batch = 1, outH = 1, outW = 1] = output;
  if (opcode === 'CONV_2D' && weights.length === 4) {
    const [outC, kH, kW, inPerGroup] = weights as [number, number, number, number];
    return batch * outH * outW * kH * kW * inPerGroup * outC;
  }
  if (opcode === 'DEPTHWISE_CONV_2D' && weights.length === 4) {
    const [, kH, kW, channelsTimesMultiplier] = weights as [number, number, number, number];
    return batch * outH * outW * kH * kW * channelsTimesMultiplier;
  }
  if (opcode === 'FULLY_CONNECTED' && weights.length === 2) {
    const [outUnits, inUnits] = weights as [number, number];
    const rows = outUnits > 0 ? product(output) / outUnits : 0;
    return rows * inUnits * outUnits;
  }
  return 0;
}

const WEIGHTED = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']);

/** The cost of every operator of subgraph 0, in file order. */
export function layerCosts(model: ModelDescription): LayerCost[] {
  const tensor = (i: number | undefined) => (i !== undefined && i >= 0 ? model.tensors[i] : undefined);
  const counted = new Set<number>();
  return model.operators.map((op) => {
    const o = op.options;
    const kernel: [number, number] | undefined = o?.filterH !== undefined && o.filterW !== undefined ? [o.filterH, o.filterW] : undefined;
    const stride: [number, number] | undefined = o?.strideH !== undefined && o.strideW !== undefined ? [o.strideH, o.strideW] : undefined;
    const output = tensor(op.outputs[0])?.shape ?? [];
    const weighted = WEIGHTED.has(op.opcode);
    const hidden = op.customCode === EDGETPU_CUSTOM_OP; // its layers are compiled into an opaque payload
    const outName = tensor(op.outputs[0])?.name;
    return {
      index: op.index,
      op: op.opcode === 'CUSTOM' ? (op.customCode ?? 'CUSTOM') : op.opcode,
      type: typeOf(op.opcode, kernel),
      ...(outName ? { name: layerName(outName) } : {}),
      input: tensor(op.inputs[0])?.shape ?? [],
      output,
      ...(kernel ? { kernel } : {}),
      ...(stride ? { stride } : {}),
      ...(o?.padding ? { padding: o.padding } : {}),
      macs: hidden ? null : macsOf(op.opcode, output, weighted ? tensor(op.inputs[1])?.shape : undefined),
      params: hidden ? null : weighted ? weightsCost(op, tensor, counted) : 0,
      ...(op.customOptionsBytes !== undefined && hidden ? { payloadBytes: op.customOptionsBytes } : {}),
    };
  });
}

/** Sums; null when any layer's cost is not visible. */
export function totalsOf(layers: LayerCost[]): { macs: number | null; params: number | null } {
  const sum = (k: 'macs' | 'params') => (layers.some((l) => l[k] === null) ? null : layers.reduce((a, l) => a + (l[k] ?? 0), 0));
  return { macs: sum('macs'), params: sum('params') };
}

/** The paper's Table 2: mult-adds and parameters per layer type, with their share of the totals. */
export function costByType(layers: LayerCost[]): Record<LayerType, TypeCost> {
  const visible = layers.filter((l) => l.macs !== null && l.params !== null);
  const totalMacs = visible.reduce((a, l) => a + l.macs!, 0);
  const totalParams = visible.reduce((a, l) => a + l.params!, 0);
  const out = {} as Record<LayerType, TypeCost>;
  for (const type of LAYER_TYPES) {
    const of = visible.filter((l) => l.type === type);
    const macs = of.reduce((a, l) => a + l.macs!, 0);
    const params = of.reduce((a, l) => a + l.params!, 0);
    out[type] = {
      layers: of.length,
      macs,
      params,
      macsShare: totalMacs > 0 ? macs / totalMacs : 0,
      paramsShare: totalParams > 0 ? params / totalParams : 0,
    };
  }
  return out;
}
