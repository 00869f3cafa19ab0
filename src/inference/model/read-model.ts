import { readFile } from 'node:fs/promises';
import type { ModelDescription, ModelTensor, OperatorSpec, SignatureDef } from './types.js';
import { ModelFileError } from './errors.js';
import { FlatbufferBoundsError } from './flatbuffer-table.js';
import { hasIdentifier, readTfliteModel, TFLITE_IDENTIFIER, type RawModel, type RawOperator } from './tflite-schema.js';
import { builtinOperatorName, tensorDataType } from './tflite-enums.js';
import {
  associatedFilesByPriority, METADATA_BUFFER_NAME, readModelMetadata, summarizeMetadata, type RawModelMetadata,
} from './metadata.js';
import { EmbeddedZipError, readEmbeddedFiles } from './embedded-files.js';
import { splitLabelLines } from './labels.js';
import { DETECTION_POSTPROCESS, detectionOutputShapes, readDetectionPostProcessOptions } from './detection-postprocess.js';

export { ModelFileError } from './errors.js';

const LABEL_FILE_TYPES = new Set(['TENSOR_AXIS_LABELS', 'TENSOR_VALUE_LABELS']);
const EDGETPU_CUSTOM_OP = 'edgetpu-custom-op';

/** True when `buf` carries the TFLite flatbuffer identifier "TFL3" at bytes 4..8. */
export function isTfliteBuffer(buf: Uint8Array): boolean {
  return hasIdentifier(buf, TFLITE_IDENTIFIER);
}

async function readModelFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'does not exist'
      : code === 'EISDIR' ? 'is a directory, not a model file'
      : code === 'EACCES' ? 'cannot be read (permission denied)'
      : `cannot be read: ${(err as Error).message}`;
    throw new ModelFileError(path, `model file ${path} ${why}`, { cause: err });
  }
}

/** Structural checks the flatbuffer layer cannot make: indices between tables must point at something. */
function checkReferences(raw: RawModel, fileSize: number): string | undefined {
  const graph = raw.subgraphs[0];
  if (!graph) return 'the model has no subgraph';
  const tensorCount = graph.tensors.length;
  const badTensor = (i: number, optional: boolean) => !(i >= 0 && i < tensorCount) && !(optional && i === -1);
  if (graph.inputs.some((i) => badTensor(i, false))) return 'a subgraph input names a missing tensor';
  if (graph.outputs.some((i) => badTensor(i, false))) return 'a subgraph output names a missing tensor';
  for (const [n, t] of graph.tensors.entries()) {
    // Buffer 0 means "no data" and may be absent altogether (TFLite accepts that too).
    if (t.buffer !== 0 && t.buffer >= raw.buffers.length) return `tensor ${n} (${t.name}) names missing buffer ${t.buffer}`;
  }
  for (const [n, op] of graph.operators.entries()) {
    if (op.opcodeIndex >= raw.operatorCodes.length) return `operator ${n} names missing operator code ${op.opcodeIndex}`;
    if (op.inputs.some((i) => badTensor(i, true)) || op.outputs.some((i) => badTensor(i, false))) {
      return `operator ${n} names a missing tensor`;
    }
  }
  for (const [n, b] of raw.buffers.entries()) {
    if (b.offset > 1 && b.offset + b.size > fileSize) return `buffer ${n} lies past the end of the file`;
  }
  for (const s of raw.signatureDefs.filter((d) => d.subgraphIndex === 0)) {
    if ([...s.inputs, ...s.outputs].some((m) => m.tensorIndex >= tensorCount)) return `signature ${s.key} names a missing tensor`;
  }
  for (const m of raw.metadata) {
    if (m.buffer >= raw.buffers.length) return `metadata ${m.name} names missing buffer ${m.buffer}`;
  }
  return undefined;
}

function bufferBytes(raw: RawModel, index: number): number {
  const b = raw.buffers[index];
  if (!b) return 0;
  return b.offset > 1 ? b.size : b.data.length;
}

function describeTensors(raw: RawModel): ModelTensor[] {
  return (raw.subgraphs[0]?.tensors ?? []).map((t, index) => ({
    index,
    name: t.name,
    shape: t.shape,
    dataType: tensorDataType(t.type),
    ...(t.quantization ? { quantization: t.quantization } : {}),
    buffer: t.buffer,
    dataBytes: bufferBytes(raw, t.buffer),
  }));
}

/** Gives shapeless SSD post-processing outputs the shapes the runtime computes (see detection-postprocess.ts). */
/**
 * Gives the SSD post-processing op's outputs their shapes (the converter leaves them empty) and returns how many
 * classes it scores (num_classes), or undefined when the model has no such op.
 */
function fillDetectionShapes(raw: RawModel, tensors: ModelTensor[]): number | undefined {
  let numClasses: number | undefined;
  for (const op of raw.subgraphs[0]?.operators ?? []) {
    if (raw.operatorCodes[op.opcodeIndex]?.customCode !== DETECTION_POSTPROCESS || !op.customOptions) continue;
    const options = readDetectionPostProcessOptions(op.customOptions);
    numClasses = options.numClasses;
    const outputs = op.outputs.map((i) => tensors[i]!);
    if (outputs.length !== 4 || outputs.some((t) => t.shape.length > 0)) continue;
    const shapes = detectionOutputShapes(options);
    outputs.forEach((t, i) => (t.shape = shapes[i]!));
  }
  return numClasses;
}

const KERNEL_FROM_WEIGHTS = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D']);

function describeOperator(raw: RawModel, tensors: ModelTensor[], op: RawOperator, index: number): OperatorSpec {
  const code = raw.operatorCodes[op.opcodeIndex]!; // checked by checkReferences
  const opcode = builtinOperatorName(code.builtinCode);
  let options = op.options;
  // Convolutions keep their kernel size in the weights ([O,H,W,I], depthwise [1,H,W,C]), not in their options.
  const weights = op.inputs[1] !== undefined ? tensors[op.inputs[1]] : undefined;
  if (options && KERNEL_FROM_WEIGHTS.has(opcode) && weights?.shape.length === 4) {
    options = { ...options, filterH: weights.shape[1]!, filterW: weights.shape[2]! };
  }
  return {
    index,
    opcode,
    builtinCode: code.builtinCode,
    ...(code.customCode !== undefined ? { customCode: code.customCode } : {}),
    version: code.version,
    inputs: op.inputs,
    outputs: op.outputs,
    ...(options ? { options } : {}),
    ...(opcode === 'CUSTOM' || op.customOptionsBytes > 0 ? { customOptionsBytes: op.customOptionsBytes } : {}),
  };
}

function describeSignatures(raw: RawModel): SignatureDef[] {
  // Tensor indices of a signature refer to its own subgraph; we describe subgraph 0 only.
  return raw.signatureDefs
    .filter((s) => s.subgraphIndex === 0)
    .map((s) => ({ key: s.key, inputs: s.inputs, outputs: s.outputs }));
}

function findMetadata(raw: RawModel): RawModelMetadata | undefined {
  const entry = raw.metadata.find((m) => m.name === METADATA_BUFFER_NAME);
  const data = entry ? raw.buffers[entry.buffer]?.data : undefined;
  return data && data.length > 0 ? readModelMetadata(data) : undefined;
}

function labelsFromFiles(meta: RawModelMetadata | undefined, files: Map<string, Buffer>): string[] | undefined {
  if (!meta) return undefined;
  for (const file of associatedFilesByPriority(meta)) {
    const content = LABEL_FILE_TYPES.has(file.type) ? files.get(file.name) : undefined;
    if (content) return splitLabelLines(content.toString('utf8'));
  }
  return undefined;
}

/**
 * Reads a .tflite model's structure (subgraph 0), metadata and appended files without running it.
 * Every failure is a ModelFileError naming the file; a Buffer argument is named "<model buffer>".
 */
export async function readModel(pathOrBuffer: string | Buffer): Promise<ModelDescription> {
  const path = typeof pathOrBuffer === 'string' ? pathOrBuffer : undefined;
  const file = path ?? '<model buffer>';
  const buf = path !== undefined ? await readModelFile(path) : (pathOrBuffer as Buffer);
  if (buf.length === 0) throw new ModelFileError(file, `${file} is empty (0 bytes), not a TFLite model`);
  if (!isTfliteBuffer(buf)) throw new ModelFileError(file, `${file} is not a TFLite model (no ${TFLITE_IDENTIFIER} identifier)`);
  const corrupt = (why: string, cause?: unknown) =>
    new ModelFileError(file, `${file} is truncated or corrupt: ${why}`, cause ? { cause } : undefined);

  let raw: RawModel;
  let meta: RawModelMetadata | undefined;
  try {
    raw = readTfliteModel(buf);
    const problem = checkReferences(raw, buf.length);
    if (problem) throw corrupt(problem);
    meta = findMetadata(raw);
  } catch (err) {
    if (err instanceof FlatbufferBoundsError) throw corrupt(err.message, err);
    throw err;
  }

  let embeddedFiles: Map<string, Buffer>;
  try {
    embeddedFiles = await readEmbeddedFiles(buf);
  } catch (err) {
    if (err instanceof EmbeddedZipError) throw corrupt(err.message, err);
    throw err;
  }
  const declared = meta ? associatedFilesByPriority(meta) : [];
  if (declared.length > 0 && embeddedFiles.size === 0) {
    // The populator always packs the files it declares; their absence means the tail of the file is gone.
    throw corrupt(`its metadata names ${declared[0]!.name} but no zip of associated files is appended`);
  }

  const tensors = describeTensors(raw);
  let detectionClasses: number | undefined;
  try {
    detectionClasses = fillDetectionShapes(raw, tensors);
  } catch (err) {
    throw corrupt(`cannot decode the ${DETECTION_POSTPROCESS} options: ${(err as Error).message ?? String(err)}`, err);
  }
  const graph = raw.subgraphs[0]!;
  const operators = graph.operators.map((op, i) => describeOperator(raw, tensors, op, i));
  const embeddedLabels = labelsFromFiles(meta, embeddedFiles);
  return {
    ...(path !== undefined ? { path } : {}),
    sizeBytes: buf.length,
    schemaVersion: raw.version,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    tensors,
    inputs: graph.inputs.map((i) => tensors[i]!),
    outputs: graph.outputs.map((i) => tensors[i]!),
    operators,
    signatures: describeSignatures(raw),
    ...(meta ? { metadata: summarizeMetadata(meta) } : {}),
    embeddedFiles,
    ...(embeddedLabels ? { embeddedLabels } : {}),
    ...(detectionClasses !== undefined ? { detectionClasses } : {}),
    edgetpu: operators.some((op) => op.customCode === EDGETPU_CUSTOM_OP),
  };
}
