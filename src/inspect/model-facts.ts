import type { ModelDescription, ModelTensor } from '../inference/model/types.js';
import type { MetadataSummary, QuantizationSummary, TensorQuantization } from './types.js';

function tensorQuantization(t: ModelTensor): TensorQuantization {
  const q = t.quantization;
  // Per-channel scales only occur on weights; an activation has one scale and zero point.
  return {
    name: t.name,
    shape: t.shape,
    dataType: t.dataType,
    ...(q && q.scale.length === 1 ? { scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 } : {}),
  };
}

const WEIGHTED = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED']);

/**
 * uint8 (TF1 quantization-aware training, what Coral's classic models use) or int8 (TF2 post-training), and
 * whether weights carry one scale per tensor or one per output channel. `weightsFrom` is the model whose
 * weights we can see: an Edge TPU model's are hidden in its payload, its CPU twin's are not.
 */
export function quantizationOf(model: ModelDescription, weightsFrom: ModelDescription | undefined): QuantizationSummary {
  const weights = (weightsFrom?.operators ?? [])
    .filter((op) => WEIGHTED.has(op.opcode))
    .map((op) => weightsFrom!.tensors[op.inputs[1]!])
    .filter((t): t is ModelTensor => t !== undefined);
  const types = [...new Set(weights.map((t) => t.dataType))];
  const quantized = weights.filter((t) => t.quantization && t.quantization.scale.length > 0);
  const perChannel = quantized.filter((t) => t.quantization!.scale.length > 1).length;
  const granularity =
    weights.length === 0 ? null
    : quantized.length === 0 ? 'none'
    : perChannel === 0 ? 'per-tensor'
    : perChannel === quantized.length ? 'per-channel'
    : 'mixed';
  const input = model.inputs[0];
  return {
    weights: types.length === 0 ? null : types.length === 1 ? types[0]! : 'mixed',
    activations: input?.dataType ?? 'unknown',
    granularity,
    input: input ? tensorQuantization(input) : { name: '', shape: [], dataType: 'unknown' },
    outputs: model.outputs.map(tensorQuantization),
  };
}

const FIRST_LABELS = 5;

export function metadataOf(model: ModelDescription): MetadataSummary | undefined {
  const m = model.metadata;
  const labels = model.embeddedLabels;
  const out: MetadataSummary = {
    ...(m?.name ? { name: m.name } : {}),
    ...(m?.description ? { description: m.description } : {}),
    ...(m?.version ? { version: m.version } : {}),
    ...(m?.author ? { author: m.author } : {}),
    ...(m?.license ? { license: m.license } : {}),
    ...(m?.normalization ? { normalization: m.normalization } : {}),
    ...(labels ? { labels: { count: labels.length, first: labels.slice(0, FIRST_LABELS) } } : {}),
    ...(model.description ? { converter: model.description } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}
