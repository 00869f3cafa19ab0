/**
 * Where the daemon's own CPU per frame goes, without a model: the real CameraPipeline on a synthetic 640x480 I420
 * camera, a detector that answers at once with a fixed result, and the real publisher to the local broker with the
 * outbox on disk or in memory (or a sink that drops everything). Prints process CPU per frame for each variant.
 * With a model, the same with the real detector in its inference host (the trip there and back included; this
 * process's CPU only, no subscriber in it, unlike the bench).
 *   npx tsx scripts/pipeline-cpu.ts [FRAMES] [MODEL]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyntheticSource } from '../src/bench/synthetic-source.js';
import type { Detector } from '../src/inference/detector.js';
import { CameraPipeline, type DetectionSink } from '../src/pipeline/camera-pipeline.js';
import { MqttPublisher } from '../src/publish/mqtt-publisher.js';
import { Outbox } from '../src/publish/outbox.js';
import { planModel } from '../src/inference/model-plan.js';
import { TfliteDetector } from '../src/inference/tflite-detector.js';
import { createLogger } from '../src/system/logger.js';
import { benchPipelineOptions } from '../src/bench/pipeline-options.js';

const FRAMES = Number(process.argv[2] ?? 3000);
const log = createLogger('error');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const instant: Detector = {
  backend: 'cpu',
  model: { name: 'none.tflite', path: '/none.tflite', kind: 'ssd', inputWidth: 128, inputHeight: 128 },
  start: async () => undefined,
  stop: async () => undefined,
  detect: async () => (await new Promise((r) => setImmediate(r)), { results: [{ label: 'cat', classId: 16, score: 0.8, box: { xmin: 0.1, ymin: 0.2, xmax: 0.5, ymax: 0.6 } }], inferenceMs: 0, backend: 'cpu' as const }),
};

async function measure(name: string, sink: DetectionSink, stopSink: () => Promise<void>, detector: Detector = instant): Promise<void> {
  const source = new SyntheticSource('cam', { fps: 1 });
  const p = new CameraPipeline(
    benchPipelineOptions('cam', { qos: 1, retain: false, offline: 'queue' }),
    source,
    detector,
    sink,
    log,
  );
  await p.start();
  while (p.counters().processed < 300) await sleep(5);
  const c0 = process.cpuUsage();
  const n0 = p.counters().processed;
  const t0 = performance.now();
  while (p.counters().processed < n0 + FRAMES) await sleep(5);
  const cpu = process.cpuUsage(c0);
  const n = p.counters().processed - n0;
  const wall = performance.now() - t0;
  await p.stop();
  await stopSink();
  console.log(`${name.padEnd(28)} ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms CPU/frame (user ${(cpu.user / 1000 / n).toFixed(3)}, sys ${(cpu.system / 1000 / n).toFixed(3)}), ${(n / wall * 1000).toFixed(0)} fps`);
}

async function publisher(dir: string | null): Promise<{ sink: MqttPublisher; stop: () => Promise<void> }> {
  const outbox = await Outbox.open({ dir, maxMessages: 10000, maxBytes: 64 * 1048576 }, log);
  const pub = new MqttPublisher(
    { url: 'mqtt://127.0.0.1:1883', clientId: `pipeline-cpu-${process.pid}`, username: null, password: null, keepaliveSec: 30, baseTopic: `pipeline-cpu/${process.pid}`, outbox, tls: { ca: null, cert: null, key: null, rejectUnauthorized: true } },
    log,
  );
  pub.start();
  while (!pub.snapshot().connected) await sleep(10);
  return { sink: pub, stop: async () => { await pub.stop(); await outbox.close(); } };
}

const nullSink: DetectionSink = { topic: (...parts) => parts.join('/'), publish: () => undefined };
await measure('no publish', nullSink, async () => undefined);
{
  const { sink, stop } = await publisher(null);
  await measure('publish, outbox in memory', sink, stop);
}
{
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-cpu-'));
  const { sink, stop } = await publisher(dir);
  await measure('publish, outbox on disk', sink, stop);
  rmSync(dir, { recursive: true, force: true });
}
if (process.argv[3]) {
  const real = new TfliteDetector(await planModel(process.argv[3], { kind: 'auto', labelsPath: null, topK: 5 }), { backend: 'cpu', threads: 1, inferenceTimeoutMs: 30_000 }, log);
  await real.start();
  await measure('real detector, no publish', nullSink, async () => undefined, real);
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-cpu-'));
  const { sink, stop } = await publisher(dir);
  await measure('real detector, publish (disk)', sink, stop, real);
  rmSync(dir, { recursive: true, force: true });
  await real.stop();
}
