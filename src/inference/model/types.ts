import type { TensorSpec } from '../types.js';

export type Padding = 'SAME' | 'VALID';

/** Options of the operators we reason about (cost, geometry); other operators carry none. */
export interface OperatorOptions {
  padding?: Padding;
  strideW?: number;
  strideH?: number;
  dilationW?: number;
  dilationH?: number;
  depthMultiplier?: number;
  filterW?: number;
  filterH?: number;
  /** 'NONE' | 'RELU' | 'RELU_N1_TO_1' | 'RELU6' | 'TANH' | 'SIGN_BIT' */
  activation?: string;
}

export interface OperatorSpec {
  index: number;
  /** BuiltinOperator name from schema.fbs, e.g. 'CONV_2D', 'DEPTHWISE_CONV_2D', 'CUSTOM'. */
  opcode: string;
  builtinCode: number;
  /** For CUSTOM operators: 'TFLite_Detection_PostProcess', 'edgetpu-custom-op', ... */
  customCode?: string;
  version: number;
  /** Tensor indices in subgraph 0; -1 marks an absent optional input. */
  inputs: number[];
  outputs: number[];
  options?: OperatorOptions;
  /** Size of custom_options (the compiled Edge TPU payload lives there). */
  customOptionsBytes?: number;
}

/** A tensor of subgraph 0 with where its data lives (weights have a non-empty buffer). */
export interface ModelTensor extends TensorSpec {
  buffer: number;
  /** Bytes of constant data in the model for this tensor (0 for activations). */
  dataBytes: number;
}

export interface SignatureDef {
  key: string;
  /** Signature input/output names mapped to tensor indices, in signature order. */
  inputs: { name: string; tensorIndex: number }[];
  outputs: { name: string; tensorIndex: number }[];
}

export interface ModelMetadata {
  name?: string;
  description?: string;
  version?: string;
  author?: string;
  license?: string;
  /** Input normalisation (float models): (value - mean) / std, per channel or one value. */
  normalization?: { mean: number[]; std: number[] };
  /** Names of associated files declared anywhere in the metadata, with their type (e.g. 'TENSOR_AXIS_LABELS'). */
  associatedFiles: { name: string; type: string; description?: string }[];
}

export interface ModelDescription {
  /** File the model came from, when read from disk. */
  path?: string;
  sizeBytes: number;
  schemaVersion: number;
  description?: string;
  tensors: ModelTensor[];
  inputs: ModelTensor[];
  outputs: ModelTensor[];
  operators: OperatorSpec[];
  signatures: SignatureDef[];
  metadata?: ModelMetadata;
  /** Files of the zip appended to the model, by name (e.g. 'labelmap.txt'). */
  embeddedFiles: Map<string, Buffer>;
  /** Label lines from the embedded label file (TENSOR_AXIS_LABELS / TENSOR_VALUE_LABELS), raw, one per line. */
  embeddedLabels?: string[];
  /** SSD models: the classes TFLite_Detection_PostProcess scores (its num_classes option). */
  detectionClasses?: number;
  /** True when the model holds an `edgetpu-custom-op` (compiled for the Edge TPU; cannot run on the CPU). */
  edgetpu: boolean;
}
