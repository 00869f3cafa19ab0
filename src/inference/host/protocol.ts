/**
 * Messages between the daemon and its inference host (a child process that owns the TFLite runtime, so that a
 * SIGSEGV or abort inside the runtime or libedgetpu kills only the host).
 */
import type { TensorDataType } from '../types.js';

export interface DelegateSpec {
  /** Shared library of an external TFLite delegate (libedgetpu.so.1 for the Edge TPU). */
  path: string;
  /** Delegate options; the binding passes at most one option intact (FACTS.md). */
  options: [string, string][];
}

/** How the host turns RGB bytes into the model's input tensor when that tensor is not uint8. */
export interface InputNormalization {
  mean: number[];
  std: number[];
}

export interface LoadRequest {
  type: 'load';
  id: number;
  modelPath: string;
  threads: number;
  delegate?: DelegateSpec;
  normalization?: InputNormalization;
}

/** Control requests over the IPC channel; frames travel on the binary wire (frames-wire.ts). */
export type HostRequest = LoadRequest;

export interface RuntimeTensorInfo {
  name: string;
  shape: number[];
  dataType: TensorDataType;
}

export interface LoadedReply {
  type: 'loaded';
  id: number;
  inputs: RuntimeTensorInfo[];
  outputs: RuntimeTensorInfo[];
  loadMs: number;
}

/** A decoded wire reply, as HostProcess.infer resolves it. */
export interface ResultReply {
  type: 'result';
  id: number;
  /** The invoke's wall time, and the host's CPU time during it. */
  inferenceMs: number;
  cpuMs?: number;
  /** Copies of every output tensor, in the runtime's output order. */
  outputs: (Float32Array | Uint8Array | Int8Array | Int32Array)[];
}

export interface ErrorReply {
  type: 'error';
  id: number;
  message: string;
}

export type HostReply = LoadedReply | ResultReply | ErrorReply;
