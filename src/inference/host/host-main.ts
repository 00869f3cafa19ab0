/**
 * Entry point of the inference host child process. It loads the TFLite native binding directly (not the package
 * index, which pulls ~20 MB of tfjs-core), holds one interpreter and answers requests one at a time.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { MAIN_THREAD_FRAME_BYTES, readFramesOnMainThread, startFrameReader, type FrameReaderHandlers } from './frame-reader.js';
import { encodeError, encodeResult } from './frames-wire.js';
import type { HostReply, HostRequest, InputNormalization, LoadRequest, RuntimeTensorInfo } from './protocol.js';
import type { TensorDataType } from '../types.js';

interface NativeTensor {
  name: string;
  shape: string;
  dataType: string;
  data(): Float32Array | Uint8Array | Int8Array | Int32Array;
}
interface NativeInterpreter {
  getInputs(): NativeTensor[];
  getOutputs(): NativeTensor[];
  infer(): void;
}
interface NativeAddon {
  Interpreter: new (model: ArrayBuffer, options: { threads: number; delegate?: { path: string; options: [string, string][] } }) => NativeInterpreter;
}

const require = createRequire(import.meta.url);

let interpreter: NativeInterpreter | undefined;
let inputTensor: NativeTensor | undefined;
let outputs: NativeTensor[] = [];
let normalization: InputNormalization | undefined;

// Frames arrive on fd 4 (read by a worker thread, see frame-reader.ts) and results leave on fd 5 (see
// frames-wire.ts); the IPC channel carries only control.
const results = new Socket({ fd: 5, readable: false, writable: true });

function send(reply: HostReply): void {
  process.send?.(reply);
}

function loadAddon(): NativeAddon {
  return require('tfjs-tflite-node/build/Release/node_tflite_binding.node') as NativeAddon;
}

function describe(t: NativeTensor): RuntimeTensorInfo {
  return { name: t.name, shape: t.shape.split(',').map(Number), dataType: t.dataType as TensorDataType };
}

function load(req: LoadRequest): void {
  const started = performance.now();
  const bytes = readFileSync(req.modelPath);
  const model = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const addon = loadAddon();
  const options: ConstructorParameters<NativeAddon['Interpreter']>[1] = { threads: req.threads };
  if (req.delegate) options.delegate = { path: req.delegate.path, options: req.delegate.options };
  interpreter = new addon.Interpreter(model, options);
  const inputs = interpreter.getInputs();
  if (inputs.length !== 1) throw new Error(`model has ${inputs.length} inputs; one image input is expected`);
  inputTensor = inputs[0];
  outputs = interpreter.getOutputs();
  normalization = req.normalization;
  startReading(inputTensor!.data().length);
  send({
    type: 'loaded',
    id: req.id,
    inputs: inputs.map(describe),
    outputs: outputs.map(describe),
    loadMs: performance.now() - started,
  });
}

/** Writes packed RGB into the input tensor in the tensor's own type. */
function fillInput(rgb: Uint8Array): void {
  const target = inputTensor!.data();
  if (target.length !== rgb.length) {
    throw new Error(`input has ${rgb.length} values, the model expects ${target.length}`);
  }
  if (target instanceof Uint8Array) {
    target.set(rgb);
  } else if (target instanceof Int8Array) {
    // int8 image models take pixel - 128 (the uint8 range shifted), the convention of TFLite's int8 image models.
    for (let i = 0; i < rgb.length; i++) target[i] = rgb[i]! - 128;
  } else if (target instanceof Float32Array) {
    const mean = normalization?.mean ?? [127.5];
    const std = normalization?.std ?? [127.5];
    for (let i = 0; i < rgb.length; i++) {
      const c = i % 3;
      target[i] = (rgb[i]! - (mean[c] ?? mean[0]!)) / (std[c] ?? std[0]!);
    }
  } else {
    throw new Error(`unsupported input tensor type ${inputTensor!.dataType}`);
  }
}

/** One frame from the binary wire: straight into a uint8 input tensor, else converted by fillInput. */
function inferWire(id: number, frame: Uint8Array): void {
  const tensor = inputTensor?.data();
  if (!interpreter || !tensor) throw new Error('no model loaded');
  if (frame.length !== tensor.length) throw new Error(`input has ${frame.length} values, the model expects ${tensor.length}`);
  if (tensor instanceof Uint8Array) tensor.set(frame);
  else fillInput(frame);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  interpreter.infer();
  const inferenceMs = performance.now() - started;
  // The runtime's CPU time, all threads (its own pool with threads > 1): what the bench subtracts from the host's CPU.
  // The wall time above counts a preempted invoke's wait too.
  const cpu = process.cpuUsage(cpuBefore);
  results.write(encodeResult(id, inferenceMs, (cpu.user + cpu.system) / 1000, outputs.map((o) => o.data())));
}

const frameHandlers: FrameReaderHandlers = {
  frame({ id, data }) {
    try {
      inferWire(id, data);
    } catch (err) {
      results.write(encodeError(id, err instanceof Error ? err.message : String(err)));
    }
  },
  end(reason, closed) {
    // A closed pipe means the daemon is stopping us or gone ('disconnect' exits too); an unreadable one is fatal.
    if (!closed) {
      process.stderr.write(`inference host: ${reason}\n`);
      process.exit(1);
    }
  },
};

let reading = false;

/** Frames come only after the model is loaded: its input size decides how they are read (see frame-reader.ts). */
function startReading(inputBytes: number): void {
  if (reading) return;
  reading = true;
  if (inputBytes <= MAIN_THREAD_FRAME_BYTES) readFramesOnMainThread(4, frameHandlers);
  else startFrameReader(4, frameHandlers);
}

process.on('message', (msg: HostRequest) => {
  try {
    if (msg.type === 'load') load(msg);
  } catch (err) {
    send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
  }
});

// The daemon is gone: nothing to serve.
process.on('disconnect', () => process.exit(0));

// Ctrl-C in a terminal and systemd's stop (KillMode=control-group) signal every process of the group at once; the
// daemon stops this host itself after the inference in flight (by disconnecting, then SIGKILL after a grace period).
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
