import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { buildStub } from './edgetpu-stub.js';
import { MODELS, IMAGES } from './paths.js';

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
  if (!reachable) throw new Error('no MQTT broker on 127.0.0.1:1883: start mosquitto (mosquitto -d) before the tests');
}
