import type { Box } from '../geometry/box.js';

/** Normalised box in [0, 1] frame coordinates (defined with the geometry every stage shares). */
export type { Box };

/** The one result type that leaves inference. */
export interface Detection {
  label: string;
  classId: number;
  score: number;
  box?: Box;
  /** What a second-stage classifier named in this detection's crop (its best class at or above its minScore). */
  subLabel?: string;
  subScore?: number;
  /** The classifier's best classes at or above its minScore, best first, when its topK is above 1. */
  subLabels?: { label: string; score: number }[];
}

export type ModelKind = 'ssd' | 'classification';
export type Backend = 'cpu' | 'edgetpu';

export type TensorDataType = 'float32' | 'float16' | 'int32' | 'uint8' | 'int64' | 'string' | 'bool' | 'int16' | 'complex64' | 'int8' | 'float64' | 'unknown';

export interface Quantization {
  /** One entry per tensor, or one per channel along quantizedDimension. */
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TensorSpec {
  index: number;
  name: string;
  shape: number[];
  dataType: TensorDataType;
  quantization?: Quantization;
}
