import { copyFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { decodeImageFile } from '../../src/camera/decode.js';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, clearRetained, uniquePrefix, type Received } from '../helpers/mqtt.js';
import { NEXT_MS, START_MS, STOP_MS } from '../helpers/budgets.js';
import { PROMTOOL, promtoolCheck } from '../helpers/promtool.js';
import { SSD_V1, V2_224, image, model } from '../helpers/paths.js';
import { makeTpuWorld, stubDetectorConfig } from '../helpers/tpu-world.js';

const json = <T>(m: Received): T => JSON.parse(m.payload.toString()) as T;
const TEST_MS = 240_000;
const retained: string[] = [];
afterAll(() => clearRetained(retained));

interface Result {
  label: string;
  score: number;
  subLabel?: string;
  subScore?: number;
}
interface ClassifierTopic {
  name: string;
  objects: string[];
  state: string;
  backend: string;
  reason: string;
}

describe('detect, then classify, through the daemon', () => {
  it(
    'bird.bmp: detections carry the chickadee, the event keeps it, HA gets a sub-label sensor, stats and /metrics count the crops',
    async () => {
      const world = makeTpuWorld(); // only for a scratch directory
      const prefix = uniquePrefix('cls');
      const ha = uniquePrefix('clsha');
      const base = `${prefix}/cls`;
      const config = join(world.dir, 'classify.json');
      // The bird as a 2048-pixel-wide JPEG: files cameras decode JPEGs only as large as needed, except where crops
      // are classified (they come from the full resolution).
      const photo = join(world.dir, 'bird-2048.jpg');
      const bird = await decodeImageFile(image('bird.bmp'));
      await sharp(bird.data, { raw: { width: bird.width, height: bird.height, channels: 3 } }).resize(2048).jpeg({ quality: 92 }).toFile(photo);
      writeFileSync(
        config,
        JSON.stringify({
          device: { id: 'cls' },
          cameras: {
            feeder: { source: { type: 'files', path: photo, fps: 0 }, detect: { fps: 0 } },
            // The per-camera opt-out: the same bird, no sub-label.
            porch: { source: { type: 'files', path: photo, fps: 0 }, detect: { fps: 2 }, classify: false },
          },
          detector: { backend: 'cpu', model: { cpu: SSD_V1 } },
          classifiers: [{ objects: ['bird'], model: { cpu: V2_224 }, labels: model('imagenet_labels.txt'), minScore: 0.3 }],
          events: { labels: ['bird'], minHits: 2 },
          homeassistant: { enabled: true, discoveryPrefix: ha },
          http: { enabled: true, port: 0 },
          mqtt: { topicPrefix: prefix, clientId: `${prefix}-daemon` },
          stats: { intervalSec: 1 },
        }),
      );
      const sub = await Subscriber.connect(`${prefix}/#`);
      const haSub = await Subscriber.connect(`${ha}/#`);
      const daemon = spawnCli(['run', '--config', config]);
      try {
        const det = await sub.waitFor(
          (m) => m.topic === `${base}/feeder/detections` && json<{ results: Result[] }>(m).results.some((r) => r.subLabel !== undefined),
          START_MS,
          'a detection with a sub-label',
        );
        expect(json<{ frame: { width: number } }>(det).frame.width).toBe(2048);
        const bird = json<{ results: Result[] }>(det).results.find((r) => r.label === 'bird')!;
        expect(bird.subLabel).toBe('chickadee');
        expect(bird.subScore).toBeGreaterThan(0.5);

        const ev = await sub.waitFor((m) => m.topic === `${base}/feeder/events` && json<{ subLabel?: string }>(m).subLabel !== undefined, NEXT_MS, 'an event with the sub-label');
        expect(json(ev)).toMatchObject({ label: 'bird', subLabel: 'chickadee' });
        const last = await sub.waitFor((m) => m.topic === `${base}/feeder/sub_label`, NEXT_MS, 'the last sub-label topic');
        expect(json(last)).toMatchObject({ subLabel: 'chickadee', label: 'bird' });

        const detector = await sub.waitFor((m) => m.topic === `${base}/detector` && json<{ classifiers?: ClassifierTopic[] }>(m).classifiers?.[0]?.state === 'running', NEXT_MS, 'classifier running on the detector topic');
        expect(json<{ backend: string; classifiers: ClassifierTopic[] }>(detector)).toMatchObject({ backend: 'cpu', classifiers: [{ name: 'mobilenet_v2_1.0_224_quant', objects: ['bird'], backend: 'cpu' }] });

        type Stats = { classifiers?: Record<string, { crops: number; cropsPerFrame: number; cropMs: { count: number; p50: number }; state: string }> };
        const stats = await sub.waitFor((m) => m.topic === `${base}/stats` && (json<Stats>(m).classifiers?.['mobilenet_v2_1.0_224_quant']?.cropMs.count ?? 0) > 0, NEXT_MS, 'stats with crops');
        const entry = json<Stats>(stats).classifiers!['mobilenet_v2_1.0_224_quant']!;
        expect(entry.state).toBe('running');
        // reuseFrames 10 (the default): the still bird is cropped once every 10 frames.
        expect(entry.crops).toBeGreaterThanOrEqual(1);
        expect(entry.cropsPerFrame).toBeGreaterThan(0);
        expect(entry.cropsPerFrame).toBeLessThanOrEqual(1);
        expect(entry.cropMs.p50).toBeGreaterThan(0);

        // The opt-out camera's birds have no sub-label.
        const porch = await sub.waitFor((m) => m.topic === `${base}/porch/detections` && json<{ results: Result[] }>(m).results.some((r) => r.label === 'bird'), NEXT_MS, 'porch bird');
        expect(json<{ results: Result[] }>(porch).results.every((r) => r.subLabel === undefined)).toBe(true);
        // Decoded smaller (no crops there), yet the payload reports the picture's own size.
        expect(json<{ frame: { width: number } }>(porch).frame.width).toBe(2048);

        const configs = haSub.messages.filter((m) => m.topic.startsWith(`${ha}/sensor/`) && m.topic.includes('sub_label'));
        expect(configs.map((m) => m.topic).some((t) => t.includes('feeder_sub_label'))).toBe(true);
        expect(configs.map((m) => m.topic).some((t) => t.includes('porch_sub_label'))).toBe(false);
        const sensor = json<{ state_topic: string; value_template: string }>(configs.find((m) => m.topic.includes('feeder_sub_label'))!);
        expect(sensor.state_topic).toBe(`${base}/feeder/sub_label`);
        retained.push(...haSub.messages.map((m) => m.topic));

        const url = JSON.parse(daemon.output().stdout.split('\n').find((l) => l.includes('HTTP endpoint'))!).url as string;
        const metrics = await (await fetch(`${url}metrics`)).text();
        expect(metrics).toMatch(/mobilenet_edge_classifier_crop_seconds_count\{classifier="mobilenet_v2_1.0_224_quant"\} [1-9]/);
        expect(metrics).toMatch(/mobilenet_edge_classifier_crops_per_frame_count\{classifier="mobilenet_v2_1.0_224_quant"\} [1-9]/);
        if (PROMTOOL) expect(promtoolCheck(metrics)).toEqual({ status: 0, said: '' });
      } finally {
        daemon.kill('SIGTERM');
        retained.push(`${base}/availability`, `${base}/stats`, `${base}/detector`, `${base}/feeder/status`, `${base}/porch/status`, `${base}/feeder/sub_label`, `${base}/feeder/snapshot`, `${base}/porch/snapshot`);
        retained.push(...new Set(sub.messages.filter((m) => /\/(count\/|occupancy|detect\/)/.test(m.topic)).map((m) => m.topic)));
      }
      expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
      await sub.close();
      await haSub.close();
    },
    TEST_MS,
  );

  it(
    'a classifier whose model fails to load: detection goes on, and the detector topic says why',
    async () => {
      // The stub Edge TPU fails every model load; the classifier has only an Edge TPU build (no CPU twin beside it),
      // while the detector falls back to its CPU twin.
      const world = makeTpuWorld();
      world.setMode('fail');
      const classifierTpu = join(world.dir, 'birds_edgetpu.tflite');
      copyFileSync(V2_224, classifierTpu);
      const prefix = uniquePrefix('clsfail');
      const base = `${prefix}/clsfail`;
      const config = join(world.dir, 'fail.json');
      writeFileSync(
        config,
        JSON.stringify({
          device: { id: 'clsfail' },
          cameras: { feeder: { source: { type: 'files', path: image('grace_hopper.bmp'), fps: 5 }, detect: { fps: 0 } } },
          detector: stubDetectorConfig(world),
          classifiers: [{ objects: ['person'], model: { edgetpu: classifierTpu }, labels: model('imagenet_labels.txt') }],
          filters: { minScore: 0 },
          mqtt: { topicPrefix: prefix, clientId: `${prefix}-daemon` },
          stats: { intervalSec: 1 },
        }),
      );
      const sub = await Subscriber.connect(`${prefix}/#`);
      const daemon = spawnCli(['run', '--config', config], world.env);
      try {
        const failed = await sub.waitFor(
          (m) => m.topic === `${base}/detector` && json<{ classifiers?: ClassifierTopic[] }>(m).classifiers?.[0]?.state === 'failed',
          START_MS,
          'the classifier failed on the detector topic',
        );
        const state = json<{ backend: string; classifiers: ClassifierTopic[] }>(failed);
        expect(state.backend).toBe('cpu');
        expect(state.classifiers[0]!.name).toBe('birds');
        expect(state.classifiers[0]!.reason).toMatch(/cannot load classifier birds: no Edge TPU could start .*no CPU twin.*detection goes on without sub-labels/s);
        // Detection goes on, without sub-labels.
        const since = Date.now();
        const det = await sub.waitFor((m) => m.topic === `${base}/feeder/detections` && m.at >= since, NEXT_MS, 'detections after the failure');
        expect(json<{ results: Result[] }>(det).results.every((r) => r.subLabel === undefined)).toBe(true);
        expect(daemon.output().stdout).toMatch(/classifier failed to load; detection goes on without it/);
      } finally {
        daemon.kill('SIGTERM');
        retained.push(`${base}/availability`, `${base}/stats`, `${base}/detector`, `${base}/feeder/status`);
      }
      expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
      await sub.close();
    },
    TEST_MS,
  );
});
