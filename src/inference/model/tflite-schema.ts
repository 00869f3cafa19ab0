import { ByteBuffer } from 'flatbuffers';
import type { OperatorOptions, Padding } from './types.js';
import { Table } from './flatbuffer-table.js';
import { activationName, BuiltinOptionsType, effectiveBuiltinCode, PADDINGS } from './tflite-enums.js';

/*
 * Accessors for the tables of tensorflow/lite/schema/schema.fbs that we need, written by hand from the schema's
 * field order: a field's number is its position in its table (a union counts twice: type, then value).
 * Each table decodes into a plain object; large byte vectors stay views into the file buffer.
 */

export const TFLITE_IDENTIFIER = 'TFL3';

export interface RawOperatorCode {
  builtinCode: number;
  customCode?: string;
  version: number;
}

export interface RawQuantization {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface RawTensor {
  shape: number[];
  type: number;
  buffer: number;
  name: string;
  quantization?: RawQuantization;
}

export interface RawOperator {
  opcodeIndex: number;
  inputs: number[];
  outputs: number[];
  builtinOptionsType: number;
  options?: OperatorOptions;
  /** View of the inline custom_options (a flexbuffer for most custom ops, an opaque blob for the Edge TPU). */
  customOptions?: Uint8Array;
  customOptionsBytes: number;
}

export interface RawSubGraph {
  name?: string;
  tensors: RawTensor[];
  inputs: number[];
  outputs: number[];
  operators: RawOperator[];
}

export interface RawBuffer {
  /** View of the inline data (empty when the buffer is empty or stored outside the flatbuffer). */
  data: Uint8Array;
  /** For models over 2 GB the data lives outside the flatbuffer at this file offset (valid when > 1). */
  offset: number;
  size: number;
}

export interface RawTensorMap {
  name: string;
  tensorIndex: number;
}

export interface RawSignatureDef {
  key: string;
  subgraphIndex: number;
  inputs: RawTensorMap[];
  outputs: RawTensorMap[];
}

export interface RawModel {
  version: number;
  description?: string;
  operatorCodes: RawOperatorCode[];
  subgraphs: RawSubGraph[];
  buffers: RawBuffer[];
  metadata: { name: string; buffer: number }[];
  signatureDefs: RawSignatureDef[];
}

/** OperatorCode: deprecated_builtin_code:byte, custom_code:string, version:int = 1, builtin_code:BuiltinOperator. */
function readOperatorCode(t: Table): RawOperatorCode {
  const customCode = t.string(1, 'OperatorCode.custom_code');
  return {
    builtinCode: effectiveBuiltinCode(t.int8(0), t.int32(3)),
    ...(customCode !== undefined ? { customCode } : {}),
    version: t.int32(2, 1),
  };
}

/** QuantizationParameters: min, max, scale:[float], zero_point:[long], details (union: 2 slots), quantized_dimension. */
function readQuantization(t: Table): RawQuantization | undefined {
  const scale = t.float32Vector(2, 'QuantizationParameters.scale');
  if (scale.length === 0) return undefined; // float tensors often carry an empty table
  return {
    scale,
    zeroPoint: t.int64Vector(3, 'QuantizationParameters.zero_point'),
    quantizedDimension: t.int32(6),
  };
}

/** Tensor: shape:[int], type:TensorType, buffer:uint, name:string, quantization, is_variable, sparsity, ... */
function readTensor(t: Table): RawTensor {
  const quantization = t.table(4, 'Tensor.quantization');
  const q = quantization ? readQuantization(quantization) : undefined;
  return {
    shape: t.int32Vector(0, 'Tensor.shape'),
    type: t.int8(1),
    buffer: t.uint32(2),
    name: t.string(3, 'Tensor.name') ?? '',
    ...(q ? { quantization: q } : {}),
  };
}

function padding(value: number): Padding | undefined {
  return PADDINGS[value];
}

/** Drops undefined values so results compare cleanly and stay small. */
function defined(o: OperatorOptions): OperatorOptions {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as OperatorOptions;
}

/** The option tables we reason about; each reads its fields by schema position. */
function readOptions(type: number, t: Table): OperatorOptions | undefined {
  switch (type) {
    case BuiltinOptionsType.Conv2DOptions:
      // padding, stride_w, stride_h, fused_activation_function, dilation_w_factor = 1, dilation_h_factor = 1
      return defined({
        padding: padding(t.int8(0)), strideW: t.int32(1), strideH: t.int32(2),
        activation: activationName(t.int8(3)), dilationW: t.int32(4, 1), dilationH: t.int32(5, 1),
      });
    case BuiltinOptionsType.DepthwiseConv2DOptions:
      // padding, stride_w, stride_h, depth_multiplier, fused_activation_function, dilation_w_factor, dilation_h_factor
      return defined({
        padding: padding(t.int8(0)), strideW: t.int32(1), strideH: t.int32(2), depthMultiplier: t.int32(3),
        activation: activationName(t.int8(4)), dilationW: t.int32(5, 1), dilationH: t.int32(6, 1),
      });
    case BuiltinOptionsType.Pool2DOptions:
      // padding, stride_w, stride_h, filter_width, filter_height, fused_activation_function
      return defined({
        padding: padding(t.int8(0)), strideW: t.int32(1), strideH: t.int32(2),
        filterW: t.int32(3), filterH: t.int32(4), activation: activationName(t.int8(5)),
      });
    case BuiltinOptionsType.TransposeConvOptions:
      // padding, stride_w, stride_h, fused_activation_function
      return defined({
        padding: padding(t.int8(0)), strideW: t.int32(1), strideH: t.int32(2), activation: activationName(t.int8(3)),
      });
    case BuiltinOptionsType.ConcatenationOptions:
      // axis, fused_activation_function
      return { activation: activationName(t.int8(1)) };
    case BuiltinOptionsType.FullyConnectedOptions:
    case BuiltinOptionsType.AddOptions:
    case BuiltinOptionsType.L2NormOptions:
    case BuiltinOptionsType.MulOptions:
    case BuiltinOptionsType.SubOptions:
    case BuiltinOptionsType.DivOptions:
      // fused_activation_function comes first in all of these
      return { activation: activationName(t.int8(0)) };
    default:
      return undefined;
  }
}

/**
 * Operator: opcode_index:uint, inputs, outputs, builtin_options (union: type slot 3, value slot 4), custom_options:[ubyte],
 * custom_options_format, mutating_variable_inputs, intermediates, large_custom_options_offset, large_custom_options_size.
 */
function readOperator(t: Table): RawOperator {
  const builtinOptionsType = t.uint8(3);
  const optionsTable = builtinOptionsType ? t.union(4, 'Operator.builtin_options') : undefined;
  const options = optionsTable ? readOptions(builtinOptionsType, optionsTable) : undefined;
  const customOptions = t.bytes(5, 'Operator.custom_options');
  return {
    opcodeIndex: t.uint32(0),
    inputs: t.int32Vector(1, 'Operator.inputs'),
    outputs: t.int32Vector(2, 'Operator.outputs'),
    builtinOptionsType,
    ...(options ? { options } : {}),
    ...(customOptions ? { customOptions } : {}),
    customOptionsBytes: customOptions?.length || t.uint64(10),
  };
}

/** SubGraph: tensors, inputs:[int], outputs:[int], operators, name. */
function readSubGraph(t: Table): RawSubGraph {
  const name = t.string(4, 'SubGraph.name');
  return {
    ...(name !== undefined ? { name } : {}),
    tensors: t.tables(0, 'SubGraph.tensors').map(readTensor),
    inputs: t.int32Vector(1, 'SubGraph.inputs'),
    outputs: t.int32Vector(2, 'SubGraph.outputs'),
    operators: t.tables(3, 'SubGraph.operators').map(readOperator),
  };
}

/** Buffer: data:[ubyte], offset:ulong, size:ulong. */
function readBuffer(t: Table): RawBuffer {
  return {
    data: t.bytes(0, 'Buffer.data') ?? new Uint8Array(0),
    offset: t.uint64(1),
    size: t.uint64(2),
  };
}

/** TensorMap: name, tensor_index:uint. */
function readTensorMap(t: Table): RawTensorMap {
  return { name: t.string(0, 'TensorMap.name') ?? '', tensorIndex: t.uint32(1) };
}

/** SignatureDef: inputs, outputs, signature_key, deprecated_tag, subgraph_index:uint. */
function readSignatureDef(t: Table): RawSignatureDef {
  return {
    key: t.string(2, 'SignatureDef.signature_key') ?? '',
    subgraphIndex: t.uint32(4),
    inputs: t.tables(0, 'SignatureDef.inputs').map(readTensorMap),
    outputs: t.tables(1, 'SignatureDef.outputs').map(readTensorMap),
  };
}

/**
 * Model: version:uint, operator_codes, subgraphs, description, buffers, metadata_buffer:[int], metadata,
 * signature_defs. Throws FlatbufferBoundsError when an offset points outside `bytes`.
 */
export function readTfliteModel(bytes: Uint8Array): RawModel {
  const m = Table.root(new ByteBuffer(bytes), 'Model');
  const description = m.string(3, 'Model.description');
  return {
    version: m.uint32(0),
    ...(description !== undefined ? { description } : {}),
    operatorCodes: m.tables(1, 'Model.operator_codes').map(readOperatorCode),
    subgraphs: m.tables(2, 'Model.subgraphs').map(readSubGraph),
    buffers: m.tables(4, 'Model.buffers').map(readBuffer),
    // Metadata: name, buffer:uint
    metadata: m.tables(6, 'Model.metadata').map((t) => ({ name: t.string(0, 'Metadata.name') ?? '', buffer: t.uint32(1) })),
    signatureDefs: m.tables(7, 'Model.signature_defs').map(readSignatureDef),
  };
}

export function hasIdentifier(bytes: Uint8Array, identifier: string): boolean {
  if (bytes.length < 8) return false;
  for (let i = 0; i < 4; i++) if (bytes[4 + i] !== identifier.charCodeAt(i)) return false;
  return true;
}
