/**
 * Measures what the inference host costs per frame: the same model and input, run N times in this process
 * (the limit) and through the host child process (IPC both ways, output copies). Usage:
 *   npx tsx scripts/host-boundary.ts [MODEL] [N]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { HostProcess } from '../src/inference/host/host-process.js';

const model = process.argv[2] ?? '../shared/models/mobilenet_v1_0.25_128_quant.tflite';
const n = Number(process.argv[3] ?? 2000);
const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

interface Tensor {
  shape: string;
  data(): Uint8Array;
}
const host = new HostProcess();
host.start();
const loaded = await host.load({ modelPath: model, threads: 1 }, 30_000);
const size = loaded.inputs[0]!.shape.reduce((a, b) => a * b, 1);
const input = new Uint8Array(size).fill(100);

const viaHost: number[] = [];
const hostInfer: number[] = [];
for (let i = 0; i < n; i++) {
  const t = performance.now();
  const r = await host.infer(input, 10_000);
  viaHost.push(performance.now() - t);
  hostInfer.push(r.inferenceMs);
}
await host.stop();

// The same work in this process: the limit the host is measured against.
const addon = createRequire(import.meta.url)('tfjs-tflite-node/build/Release/node_tflite_binding.node') as {
  Interpreter: new (m: ArrayBuffer, o: { threads: number }) => { getInputs(): Tensor[]; getOutputs(): Tensor[]; infer(): void };
};
const bytes = readFileSync(model);
const interp = new addon.Interpreter(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, { threads: 1 });
const inTensor = interp.getInputs()[0]!.data();
const outs = interp.getOutputs();
const inProcess: number[] = [];
for (let i = 0; i < n; i++) {
  const t = performance.now();
  inTensor.set(input);
  interp.infer();
  for (const o of outs) o.data().slice();
  inProcess.push(performance.now() - t);
}
const f = (v: number): string => v.toFixed(3);
console.log(`model ${model}, ${n} frames, input ${size} bytes`);
console.log(`in process        p50 ${f(pct(inProcess, 0.5))} ms  p99 ${f(pct(inProcess, 0.99))} ms`);
console.log(`through the host  p50 ${f(pct(viaHost, 0.5))} ms  p99 ${f(pct(viaHost, 0.99))} ms (runtime inside: p50 ${f(pct(hostInfer, 0.5))} ms)`);
console.log(`boundary cost     p50 ${f(pct(viaHost, 0.5) - pct(hostInfer, 0.5))} ms per frame (round trip minus the runtime's own time)`);
