import type { Backend, Detection, ModelKind } from './types.js';

export interface ModelInfo {
  /** File name without directory, as payloads name the model. */
  name: string;
  path: string;
  kind: ModelKind;
  inputWidth: number;
  inputHeight: number;
}

export interface DetectResult {
  /** Results in model-input coordinates, unfiltered (a classifier's are its top-k). */
  results: Detection[];
  /** The runtime's own time (its invoke, wall clock, as the inference host timed it). */
  inferenceMs: number;
  /** The inference host's CPU time during that invoke, when it measured it (the bench subtracts it). */
  invokeCpuMs?: number;
  backend: Backend;
}

/** The hardware seam for inference: the CPU and the Edge TPU each implement it; fallback lives above it. */
export interface Detector {
  readonly backend: Backend;
  readonly model: ModelInfo;
  /** Loads the model; rejects with a clear error naming the model when it cannot run here. */
  start(): Promise<void>;
  /** One inference on packed RGB at the model's input size. */
  detect(input: Uint8Array): Promise<DetectResult>;
  stop(): Promise<void>;
}
