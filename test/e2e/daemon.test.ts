import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, clearRetained, uniquePrefix } from '../helpers/mqtt.js';
import { INFERENCE_TIMEOUT_MS, NEXT_MS, START_MS, STOP_MS } from '../helpers/budgets.js';
import { SSD_V1, image } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';

interface DetectionsMsg {
  v: number;
  ts: string;
  seq: number;
  camera: string;
  model: string;
  backend: string;
  frame: { width: number; height: number };
  latencyMs: Record<string, number>;
  results: { label: string; classId: number; score: number; box?: Record<string, number> }[];
}

/** Every field of the documented detections payload, with its type and range. */
function assertDetections(m: DetectionsMsg): void {
  expect(Object.keys(m).sort()).toEqual(['backend', 'camera', 'frame', 'latencyMs', 'model', 'results', 'seq', 'ts', 'v']);
  expect(m.v).toBe(1);
  expect(new Date(m.ts).toISOString()).toBe(m.ts);
  expect(Number.isInteger(m.seq)).toBe(true);
  expect(m.camera).toBe('door');
  expect(m.model).toBe('coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite');
  expect(m.backend).toBe('cpu');
  expect(m.frame.width).toBeGreaterThan(0);
  for (const k of ['capture', 'preprocess', 'inference', 'postprocess', 'total']) {
    expect(typeof m.latencyMs[k]).toBe('number');
    expect(m.latencyMs[k]!).toBeGreaterThanOrEqual(0);
  }
  expect(m.latencyMs.total!).toBeGreaterThanOrEqual(m.latencyMs.inference!);
  for (const r of m.results) {
    expect(typeof r.label).toBe('string');
    expect(r.score).toBeGreaterThanOrEqual(0.5);
    expect(r.score).toBeLessThanOrEqual(1);
    for (const k of ['xmin', 'ymin', 'xmax', 'ymax']) {
      expect(r.box![k]!).toBeGreaterThanOrEqual(0);
      expect(r.box![k]!).toBeLessThanOrEqual(1);
    }
    expect(r.box!.xmax!).toBeGreaterThan(r.box!.xmin!);
    expect(r.box!.ymax!).toBeGreaterThan(r.box!.ymin!);
  }
}

describe('the daemon end to end (files source, SSD on the CPU, real mosquitto)', () => {
  const prefix = uniquePrefix('e2e');
  const base = `${prefix}/e2e-device`;
  afterAll(() => clearRetained([`${base}/availability`, `${base}/stats`]));

  it('announces online, publishes detections and stats, skips a corrupt file, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-e2e-'));
    const frames = join(dir, 'frames');
    mkdirSync(frames);
    copyFileSync(image('cats_and_dogs.jpg'), join(frames, 'a_cats_and_dogs.jpg'));
    copyFileSync(image('grace_hopper.bmp'), join(frames, 'b_grace_hopper.bmp'));
    writeFileSync(join(frames, 'c_corrupt.jpg'), readFileSync(image('burger.jpg')).subarray(0, 2000));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        device: { id: 'e2e-device' },
        log: { level: 'info' },
        cameras: { door: { source: { type: 'files', path: frames, fps: 10, loop: true }, detect: { fps: 0 } } },
        detector: { backend: 'cpu', model: { cpu: SSD_V1 }, inferenceTimeoutMs: INFERENCE_TIMEOUT_MS },
        // Its own client id: the broker is shared, and a second daemon with the same id (another run of this test)
        // would take the session over.
        mqtt: { url: 'mqtt://127.0.0.1:1883', topicPrefix: prefix, clientId: `${prefix}-daemon` },
        stats: { intervalSec: 1 },
      }),
    );

    const sub = await Subscriber.connect(`${prefix}/#`);
    const daemon = spawnCli(['run', '--config', config]);
    try {
      await sub.waitFor((m) => m.topic === `${base}/availability` && m.payload.toString() === 'online', START_MS, 'online');
      await sub.waitFor(() => sub.on(`${base}/door/detections`).length >= 6, NEXT_MS, '6 detections');
      // Stats counting both (a loaded machine may publish one after the skip and before the first inference).
      const stats = await sub.waitFor(
        (m) => m.topic === `${base}/stats` && JSON.parse(m.payload.toString()).cameras?.door?.totals?.skipped > 0 && JSON.parse(m.payload.toString()).cameras.door.totals.processed > 0,
        NEXT_MS,
        'stats counting the corrupt file and processed frames',
      );
      const detections = sub.on(`${base}/door/detections`).map((m) => JSON.parse(m.payload.toString()) as DetectionsMsg);
      detections.forEach(assertDetections);
      const seqs = detections.map((d) => d.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs); // in order
      // The cats photo (1200x600) gives cats; the portrait gives a person.
      const catFrame = detections.find((d) => d.frame.width === 1200)!;
      expect(catFrame.results.some((r) => r.label === 'cat')).toBe(true);
      const portrait = detections.find((d) => d.frame.width === 517);
      if (portrait) expect(portrait.results.some((r) => r.label === 'person')).toBe(true);

      const s = JSON.parse(stats.payload.toString());
      expect(s).toMatchObject({ v: 1, device: 'e2e-device', backend: 'cpu', model: 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite' });
      expect(s.cameras.door.totals.processed).toBeGreaterThan(0);
      expect(s.cameras.door.latencyMs.inference.p50).toBeGreaterThan(0);
      expect(s.process.rssMb).toBeGreaterThan(0);
      expect(s.mqtt.connected).toBe(true);
      expect(daemon.output().stdout).toMatch(/c_corrupt\.jpg.*"msg":"frame skipped: cannot decode"/);
    } finally {
      daemon.kill('SIGTERM');
    }
    const exit = await waitExit(daemon, STOP_MS);
    expect(exit).toEqual({ code: 0, signal: null });
    await sub.waitFor((m) => m.topic === `${base}/availability` && m.payload.toString() === 'offline', NEXT_MS, 'offline');
    await sub.close();
    const late = await Subscriber.connect(`${base}/availability`);
    const retained = await late.waitFor(() => true, NEXT_MS, 'retained availability');
    expect(retained.payload.toString()).toBe('offline');
    await late.close();
  }, START_MS + 2 * NEXT_MS + STOP_MS + 2 * NEXT_MS);

  it('keeps running without a broker and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-e2e-nobroker-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        cameras: { door: { source: { type: 'files', path: image('cats_and_dogs.jpg'), fps: 5 } } },
        detector: { backend: 'cpu', model: { cpu: SSD_V1 } },
        mqtt: { url: 'mqtt://127.0.0.1:9' },
        stats: { intervalSec: 1 },
      }),
    );
    const daemon = spawnCli(['run', '--config', config]);
    try {
      await until(() => /"processed":[1-9].*"msg":"stats"/.test(daemon.output().stdout), START_MS, 'stats counting processed frames');
      expect(daemon.output().stdout).toMatch(/MQTT broker unreachable/);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
  }, START_MS + STOP_MS);
});
