import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, clearRetained, uniquePrefix, type Received } from '../helpers/mqtt.js';
import { image } from '../helpers/paths.js';
import { makeTpuWorld, stubDetectorConfig, type TpuWorld } from '../helpers/tpu-world.js';

interface DetectorTopic {
  backend: string;
  reason: string;
  since: string;
  failovers: number;
  recoveries: number;
  tpus: { device: string; healthy: boolean; reason: string }[];
}

const json = <T>(m: Received): T => JSON.parse(m.payload.toString()) as T;
const FRAME_MS = 100;
const INFERENCE_TIMEOUT_MS = 500;
const RECOVER_SEC = 1;
/** Generous slack for a loaded 2-core CI machine; the figures themselves are printed. */
const SLACK_MS = 2500;
const prefixes: string[] = [];

afterAll(() => clearRetained(prefixes.flatMap((p) => ['availability', 'stats', 'detector'].map((t) => `${p}/tpu/${t}`))));

/** Runs the daemon on the stub TPU world; returns helpers to watch MQTT. */
async function startDaemon(world: TpuWorld, name: string) {
  const prefix = uniquePrefix(name);
  prefixes.push(prefix);
  const base = `${prefix}/tpu`;
  const config = join(world.dir, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      device: { id: 'tpu' },
      cameras: { cam: { source: { type: 'files', path: image('grace_hopper.bmp'), fps: 1000 / FRAME_MS }, detect: { fps: 0 } } },
      detector: stubDetectorConfig(world, { inferenceTimeoutMs: INFERENCE_TIMEOUT_MS, recoverIntervalSec: RECOVER_SEC }),
      filters: { minScore: 0 },
      mqtt: { topicPrefix: prefix },
      stats: { intervalSec: 1 },
    }),
  );
  const sub = await Subscriber.connect(`${prefix}/#`);
  const daemon = spawnCli(['run', '--config', config], world.env);
  const detections = (since: number, backend: string) => (m: Received) =>
    m.topic === `${base}/cam/detections` && json<{ backend: string }>(m).backend === backend && m.at >= since;
  const detector = (pred: (d: DetectorTopic) => boolean) => (m: Received) => m.topic === `${base}/detector` && pred(json<DetectorTopic>(m));
  const stop = async () => {
    daemon.kill('SIGTERM');
    const exit = await waitExit(daemon, 6000);
    await sub.close();
    return exit;
  };
  return { sub, daemon, base, detections, detector, stop };
}

describe('Edge TPU with CPU fallback and recovery (stub libedgetpu)', () => {
  it('"works": runs on the Edge TPU, detections say so, the detector topic is retained', async () => {
    const world = makeTpuWorld();
    const d = await startDaemon(world, 'works');
    try {
      await d.sub.waitFor(d.detector((s) => s.backend === 'edgetpu'), 20_000, 'detector edgetpu');
      const m = await d.sub.waitFor(d.detections(0, 'edgetpu'), 10_000, 'an edgetpu detection');
      expect(json<{ model: string }>(m).model).toBe('mnet_edgetpu.tflite');
      const stats = await d.sub.waitFor((x) => x.topic === `${d.base}/stats` && json<{ detector: { byBackend: object } }>(x).detector.byBackend !== undefined && 'edgetpu' in json<{ detector: { byBackend: object } }>(x).detector.byBackend, 10_000, 'stats');
      expect(json<{ backend: string }>(stats).backend).toBe('edgetpu');
    } finally {
      expect(await d.stop()).toEqual({ code: 0, signal: null });
    }
  }, 60_000);

  const runtime: [string, string, RegExp][] = [
    ['crash (abort in libedgetpu)', 'abort-after:0', /SIGABRT/],
    ['hang during inference', 'hang-invoke', /did not finish within 500 ms/],
    ['inference error', 'invoke-error', /simulated inference error/],
  ];
  for (const [what, mode, reason] of runtime) {
    it(`${what}: CPU within the timeout plus one inference, no frame lost, back to the TPU once healed`, async () => {
      const world = makeTpuWorld();
      const d = await startDaemon(world, mode.replace(/[^a-z]/g, ''));
      try {
        await d.sub.waitFor(d.detections(0, 'edgetpu'), 20_000, 'edgetpu detections');
        const broke = Date.now();
        world.setMode(mode);
        const firstCpu = await d.sub.waitFor(d.detections(broke, 'cpu'), 10_000, 'cpu detections');
        const failoverMs = firstCpu.at - broke;
        const state = await d.sub.waitFor(d.detector((s) => s.backend === 'cpu'), 5000, 'detector cpu');
        expect(json<DetectorTopic>(state).reason).toMatch(reason);
        expect(json<DetectorTopic>(state).failovers).toBe(1);
        expect(failoverMs).toBeLessThan(INFERENCE_TIMEOUT_MS + FRAME_MS + SLACK_MS);
        const healed = Date.now();
        world.setMode('works');
        const back = await d.sub.waitFor(d.detector((s) => s.backend === 'edgetpu' && s.recoveries === 1), RECOVER_SEC * 1000 + 10_000, 'recovery');
        const recoveryMs = back.at - healed;
        expect(recoveryMs).toBeLessThan(RECOVER_SEC * 1000 + SLACK_MS);
        await d.sub.waitFor(d.detections(back.at, 'edgetpu'), 5000, 'edgetpu detections again');
        // No frame lost across the switch: the frame that failed on the TPU is the first one the CPU answers.
        const all = d.sub.on(`${d.base}/cam/detections`).map((m) => json<{ seq: number; backend: string }>(m));
        const firstCpuIndex = all.findIndex((m) => m.backend === 'cpu');
        expect(all[firstCpuIndex]!.seq).toBe(all[firstCpuIndex - 1]!.seq + 1);
        expect(new Set(all.map((m) => m.seq)).size).toBe(all.length);
        console.log(`[figures] ${what}: failover ${failoverMs} ms, recovery ${recoveryMs} ms after healing`);
      } finally {
        expect(await d.stop()).toEqual({ code: 0, signal: null });
      }
    }, 60_000);
  }

  const atLoad: [string, string, RegExp][] = [
    ['Prepare fails cleanly', 'fail', /Prepare failed/],
    ['create returns NULL (the binding segfaults)', 'null', /SIGSEGV/],
    ['Prepare hangs', 'hang-prepare', /did not finish within/],
  ];
  for (const [what, mode, reason] of atLoad) {
    it(`${what} at start: runs on the CPU with the reason, then recovers`, async () => {
      const world = makeTpuWorld();
      world.setMode(mode);
      const d = await startDaemon(world, mode.replace(/[^a-z]/g, ''));
      try {
        const state = await d.sub.waitFor(d.detector((s) => s.backend === 'cpu'), 20_000, 'detector cpu');
        expect(json<DetectorTopic>(state).reason).toMatch(reason);
        await d.sub.waitFor(d.detections(0, 'cpu'), 10_000, 'cpu detections');
        world.setMode('works');
        await d.sub.waitFor(d.detector((s) => s.backend === 'edgetpu' && s.recoveries === 1), 15_000, 'recovery');
        await d.sub.waitFor(d.detections(Date.now(), 'edgetpu'), 5000, 'edgetpu detections');
      } finally {
        expect(await d.stop()).toEqual({ code: 0, signal: null });
      }
    }, 60_000);
  }
});
