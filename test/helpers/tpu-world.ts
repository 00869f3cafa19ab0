import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STUB_LIBRARY, setStubMode } from './edgetpu-stub.js';
import { V1_025 } from './paths.js';

/**
 * A machine with a (stub) Coral: a fake sysfs root holding one USB accelerator, the stub libedgetpu, and the
 * CPU model copied under both twin names (the stub runs a CPU model through the Edge TPU code path).
 */
export interface TpuWorld {
  dir: string;
  root: string;
  control: string;
  cpuModel: string;
  tpuModel: string;
  env: NodeJS.ProcessEnv;
  setMode(mode: string | Record<string, string>): void;
  addUsbTpu(name: string): void;
}

export function makeTpuWorld(): TpuWorld {
  const dir = mkdtempSync(join(tmpdir(), 'me-tpu-'));
  const root = join(dir, 'root');
  const control = join(dir, 'stub-control');
  const cpuModel = join(dir, 'mnet.tflite');
  const tpuModel = join(dir, 'mnet_edgetpu.tflite');
  copyFileSync(V1_025, cpuModel);
  copyFileSync(V1_025, tpuModel);
  mkdirSync(join(root, 'dev'), { recursive: true });
  const addUsbTpu = (name: string): void => {
    const d = join(root, 'sys', 'bus', 'usb', 'devices', name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'idVendor'), '18d1\n');
    writeFileSync(join(d, 'idProduct'), '9302\n');
    writeFileSync(join(d, 'speed'), '5000\n');
  };
  addUsbTpu('2-1');
  setStubMode(control, 'works');
  return {
    dir,
    root,
    control,
    cpuModel,
    tpuModel,
    env: { MOBILENET_EDGE_STUB_CONTROL: control },
    setMode: (mode) => setStubMode(control, mode),
    addUsbTpu,
  };
}

/**
 * The stub world's inferenceTimeoutMs, generous on purpose: the daemon derives the Edge TPU's model-load timeout from
 * it (5x, at least 3 s), and that load includes starting the host process, which from source (node --import tsx) takes
 * 2-5 s on a loaded 2-core machine. At 500 ms, TPU loads timed out there (3 s) and a CPU inference that waited for a
 * core was killed as a hang, losing frames; a test of the timeout itself sets its own.
 */
export const STUB_INFERENCE_TIMEOUT_MS = 4000;

/** The daemon's detector config for the stub world. */
export const stubDetectorConfig = (w: TpuWorld, extra: Record<string, unknown> = {}) => ({
  backend: 'auto',
  model: { cpu: w.cpuModel, edgetpu: w.tpuModel },
  edgetpu: { library: STUB_LIBRARY, probeRoot: w.root, device: '' },
  inferenceTimeoutMs: STUB_INFERENCE_TIMEOUT_MS,
  recoverIntervalSec: 1,
  ...extra,
});
