import type { Padding } from '../inference/model/types.js';

/**
 * The paper's Table 2 rows, plus 'other' for everything that has no mult-adds in its sense
 * (pooling, add, reshape, softmax, concatenation, detection post-processing, custom ops).
 */
export type LayerType = 'conv1x1' | 'depthwise' | 'conv' | 'fullyConnected' | 'other';

export const LAYER_TYPES: readonly LayerType[] = ['conv1x1', 'depthwise', 'conv', 'fullyConnected', 'other'];

export interface LayerCost {
  /** Operator index in the file (or position in the analytic network). */
  index: number;
  /** TFLite builtin name, or the custom code for CUSTOM operators. */
  op: string;
  type: LayerType;
  /** Short layer name taken from the output tensor, when the file has one. */
  name?: string;
  input: number[];
  output: number[];
  kernel?: [number, number];
  stride?: [number, number];
  padding?: Padding;
  /** null when the layer's insides are not visible (an Edge TPU op without a CPU twin). */
  macs: number | null;
  params: number | null;
  /** Only in Edge TPU models: where the operator runs. */
  runsOn?: 'tpu' | 'cpu';
  /** Size of the custom op's compiled payload (custom_options), bytes. */
  payloadBytes?: number;
}

export interface TypeCost {
  layers: number;
  macs: number;
  params: number;
  /** Fractions of the totals, 0..1. */
  macsShare: number;
  paramsShare: number;
}

/** One depthwise conv feeding one 1x1 conv, against one standard conv with the same input, output and kernel. */
export interface SeparablePair {
  depthwise: number;
  pointwise: number;
  kernel: [number, number];
  /** Input channels M and output channels N of the pair. */
  inChannels: number;
  outChannels: number;
  macs: number;
  standardMacs: number;
  /** macs / standardMacs, measured from the shapes. */
  reduction: number;
  /** The paper's 1/N + 1/Dk^2 (times the depth multiplier, which is 1 in every MobileNet). */
  predicted: number;
}

export interface QuantizationSummary {
  /** Data type of the weight tensors ('uint8', 'int8', 'float32', 'mixed'); null when none are visible. */
  weights: string | null;
  /** Data type of the model input. */
  activations: string;
  granularity: 'per-tensor' | 'per-channel' | 'mixed' | 'none' | null;
  input: TensorQuantization;
  outputs: TensorQuantization[];
}

export interface TensorQuantization {
  name: string;
  shape: number[];
  dataType: string;
  scale?: number;
  zeroPoint?: number;
}

export interface EdgeTpuSummary {
  customOps: { index: number; payloadBytes: number }[];
  /** Operators outside the custom op, run by the CPU (e.g. SSD post-processing). */
  cpuOps: string[];
  /** The CPU model beside this one that the TPU model was compiled from, when found. */
  twin: string | null;
  /** Mult-adds and parameters of what runs on the TPU (from the twin), null without a twin. */
  tpuMacs: number | null;
  tpuParams: number | null;
}

export interface MetadataSummary {
  name?: string;
  description?: string;
  version?: string;
  author?: string;
  license?: string;
  normalization?: { mean: number[]; std: number[] };
  labels?: { count: number; first: string[] };
  /** The converter's note in the flatbuffer (e.g. "MLIR Converted."). */
  converter?: string;
}

export interface InspectReport {
  model: string;
  family: string;
  alpha: number | null;
  resolution: number | null;
  totals: { macs: number | null; params: number | null };
  byType: Record<LayerType, TypeCost>;
  layers: LayerCost[];
  /** Where the cost figures come from: the file, its CPU twin, the paper's table, or nowhere. */
  costFrom: string;
  input?: number[];
  path?: string;
  sizeBytes?: number;
  separablePairs: SeparablePair[];
  quantization?: QuantizationSummary;
  edgetpu?: EdgeTpuSummary;
  metadata?: MetadataSummary;
}
