import { ByteBuffer } from 'flatbuffers';
import type { ModelMetadata } from './types.js';
import { Table } from './flatbuffer-table.js';

/*
 * Reader for the TFLITE_METADATA buffer: a second flatbuffer (file identifier "M001") whose schema is
 * tensorflow/tflite-support tensorflow_lite_support/metadata/metadata_schema.fbs. Field numbers follow that
 * schema's field order (a union counts twice).
 */

export const METADATA_BUFFER_NAME = 'TFLITE_METADATA';
export const METADATA_IDENTIFIER = 'M001';

const ASSOCIATED_FILE_TYPES = [
  'UNKNOWN', 'DESCRIPTIONS', 'TENSOR_AXIS_LABELS', 'TENSOR_VALUE_LABELS', 'TENSOR_AXIS_SCORE_CALIBRATION', 'VOCABULARY',
];

/** ProcessUnitOptions union member index of NormalizationOptions (0 = NONE). */
const NORMALIZATION_OPTIONS = 1;

export interface AssociatedFile {
  name: string;
  type: string;
  description?: string;
}

export interface TensorMetadata {
  name?: string;
  description?: string;
  normalization?: { mean: number[]; std: number[] };
  associatedFiles: AssociatedFile[];
}

export interface SubGraphMetadata {
  name?: string;
  description?: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  associatedFiles: AssociatedFile[];
}

/** The metadata as the schema nests it: which file belongs to which tensor matters for labels. */
export interface RawModelMetadata {
  name?: string;
  description?: string;
  version?: string;
  author?: string;
  license?: string;
  subgraphs: SubGraphMetadata[];
  associatedFiles: AssociatedFile[];
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value !== undefined && value !== '' ? ({ [key]: value } as Record<K, string>) : {};
}

/** AssociatedFile: name, description, type:AssociatedFileType (byte), locale. */
function readAssociatedFile(t: Table): AssociatedFile {
  const type = t.int8(2);
  return {
    name: t.string(0, 'AssociatedFile.name') ?? '',
    type: ASSOCIATED_FILE_TYPES[type] ?? `UNKNOWN_${type}`,
    ...optional('description', t.string(1, 'AssociatedFile.description')),
  };
}

/** TensorMetadata: name, description, dimension_names, content, process_units, stats, associated_files. */
function readTensorMetadata(t: Table): TensorMetadata {
  let normalization: TensorMetadata['normalization'];
  // ProcessUnit: options (union: type slot 0, value slot 1)
  for (const unit of t.tables(4, 'TensorMetadata.process_units')) {
    if (unit.uint8(0) !== NORMALIZATION_OPTIONS) continue;
    const options = unit.union(1, 'NormalizationOptions');
    // NormalizationOptions: mean:[float], std:[float]
    if (options) {
      normalization = {
        mean: options.float32Vector(0, 'NormalizationOptions.mean'),
        std: options.float32Vector(1, 'NormalizationOptions.std'),
      };
    }
  }
  return {
    ...optional('name', t.string(0, 'TensorMetadata.name')),
    ...optional('description', t.string(1, 'TensorMetadata.description')),
    ...(normalization ? { normalization } : {}),
    associatedFiles: t.tables(6, 'TensorMetadata.associated_files').map(readAssociatedFile),
  };
}

/** SubGraphMetadata: name, description, input_tensor_metadata, output_tensor_metadata, associated_files, ... */
function readSubGraphMetadata(t: Table): SubGraphMetadata {
  return {
    ...optional('name', t.string(0, 'SubGraphMetadata.name')),
    ...optional('description', t.string(1, 'SubGraphMetadata.description')),
    inputs: t.tables(2, 'SubGraphMetadata.input_tensor_metadata').map(readTensorMetadata),
    outputs: t.tables(3, 'SubGraphMetadata.output_tensor_metadata').map(readTensorMetadata),
    associatedFiles: t.tables(4, 'SubGraphMetadata.associated_files').map(readAssociatedFile),
  };
}

/**
 * ModelMetadata: name, description, version, subgraph_metadata, author, license, associated_files, min_parser_version.
 * Throws FlatbufferBoundsError on offsets outside `bytes`.
 */
export function readModelMetadata(bytes: Uint8Array): RawModelMetadata {
  const m = Table.root(new ByteBuffer(bytes), 'ModelMetadata');
  return {
    ...optional('name', m.string(0, 'ModelMetadata.name')),
    ...optional('description', m.string(1, 'ModelMetadata.description')),
    ...optional('version', m.string(2, 'ModelMetadata.version')),
    subgraphs: m.tables(3, 'ModelMetadata.subgraph_metadata').map(readSubGraphMetadata),
    ...optional('author', m.string(4, 'ModelMetadata.author')),
    ...optional('license', m.string(5, 'ModelMetadata.license')),
    associatedFiles: m.tables(6, 'ModelMetadata.associated_files').map(readAssociatedFile),
  };
}

/** Every associated file, nearest to the output first: first output tensor, other outputs, subgraph, model, inputs. */
export function associatedFilesByPriority(meta: RawModelMetadata): AssociatedFile[] {
  const sub = meta.subgraphs[0];
  return [
    ...(sub?.outputs.flatMap((t) => t.associatedFiles) ?? []),
    ...(sub?.associatedFiles ?? []),
    ...meta.associatedFiles,
    ...(sub?.inputs.flatMap((t) => t.associatedFiles) ?? []),
  ];
}

/** Flattens to the shared ModelMetadata shape (subgraph 0; normalization of its first input). */
export function summarizeMetadata(meta: RawModelMetadata): ModelMetadata {
  const seen = new Set<string>();
  const associatedFiles = associatedFilesByPriority(meta).filter((f) => {
    const key = `${f.name}\u0000${f.type}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const normalization = meta.subgraphs[0]?.inputs[0]?.normalization;
  return {
    ...optional('name', meta.name),
    ...optional('description', meta.description),
    ...optional('version', meta.version),
    ...optional('author', meta.author),
    ...optional('license', meta.license),
    ...(normalization ? { normalization } : {}),
    associatedFiles,
  };
}
