import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { buildStub } from './edgetpu-stub.js';
import { MODELS, IMAGES, ROOT } from './paths.js';

/** Fails the run early, with the reason, when what every suite needs is not there. */
export default async function setup(): Promise<void> {
  for (const dir of [MODELS, IMAGES]) {
    if (!existsSync(dir)) throw new Error(`${dir} is missing: the tests read real models and photos from ../shared beside the project`);
  }
  const reachable = await new Promise<boolean>((resolve) => {
    const s = connect(1883, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  // The stand-in libedgetpu for the Edge TPU tests (needs gcc).
  buildStub();
  // The WebAssembly resize kernel (npm run build makes it too; skipped when it is newer than its source).
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-wasm.mjs')], { stdio: 'inherit' });
  if (!reachable) throw new Error('no MQTT broker on 127.0.0.1:1883: start mosquitto (mosquitto -d) before the tests');
}
