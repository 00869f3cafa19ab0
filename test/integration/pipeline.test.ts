import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { SyntheticSource } from '../../src/bench/synthetic-source.js';
import { FfmpegSource } from '../../src/camera/ffmpeg-source.js';
import { FilesSource } from '../../src/camera/files-source.js';
import type { Detector } from '../../src/inference/detector.js';
import { CameraPipeline, type DetectionSink } from '../../src/pipeline/camera-pipeline.js';
import { silentLogger } from '../../src/system/logger.js';
import { until } from '../helpers/wait.js';

/** Bounds only a failing wait: ffmpeg, sharp and the event loop are all slower on a loaded machine. */
const WAIT_MS = 60_000;
const TEST_MS = 90_000;

/**
 * A detector that takes `ms` per frame, one frame at a time like the real inference host, and sees one fake cat:
 * the pipeline around it is what is under test.
 */
function slowDetector(ms: number): Detector & { inputs: number[]; maxInFlight: number } {
  const inputs: number[] = [];
  let busy: Promise<unknown> = Promise.resolve();
  let inFlight = 0;
  const d = {
    backend: 'cpu' as const,
    model: { name: 'fake.tflite', path: '/fake.tflite', kind: 'ssd' as const, inputWidth: 64, inputHeight: 48 },
    inputs,
    maxInFlight: 0,
    start: async () => undefined,
    stop: async () => undefined,
    detect: async (input: Uint8Array) => {
      inputs.push(input.length);
      d.maxInFlight = Math.max(d.maxInFlight, ++inFlight);
      const mine = busy.then(() => new Promise((r) => setTimeout(r, ms)));
      busy = mine;
      await mine;
      inFlight--;
      return { results: [{ label: 'cat', classId: 16, score: 0.9, box: { xmin: 0.25, ymin: 0.5, xmax: 0.75, ymax: 1 } }], inferenceMs: ms, backend: 'cpu' as const };
    },
  };
  return d;
}

function recorder(): DetectionSink & { messages: { topic: string; payload: string }[] } {
  const messages: { topic: string; payload: string }[] = [];
  return { messages, topic: (...p) => ['base', ...p].join('/'), publish: (topic, payload) => messages.push({ topic, payload: payload.toString() }) };
}

describe('a camera pipeline over a live ffmpeg source', () => {
  it('captures at the source rate, infers at the detector rate, and counts every dropped frame', async () => {
    const source = new FfmpegSource(
      'lab',
      { input: 'testsrc2=size=320x240:rate=20', inputOptions: ['-re', '-f', 'lavfi'], width: 160, height: 120, fps: 20, ffmpegPath: 'ffmpeg' },
      silentLogger(),
    );
    const detector = slowDetector(200);
    const sink = recorder();
    const pipeline = new CameraPipeline(
      {
        camera: 'lab',
        detectFps: 0,
        resize: 'stretch',
        filters: { minScore: 0.5, labels: [], perLabel: {}, maxResults: 10 },
        publish: { qos: 1, retain: false, offline: 'queue' },
      },
      source,
      detector,
      sink,
      silentLogger(),
    );
    const t0 = performance.now();
    await pipeline.start();
    // Until frames have come at the source's rate and gone at the detector's, dropping the rest: counted, not timed
    // (ffmpeg takes seconds to start on a loaded machine). A pipeline that queued instead of dropping never gets here.
    await until(() => {
      const c = pipeline.counters();
      return c.captured >= 40 && c.processed >= 8 && c.dropped >= 1;
    }, WAIT_MS, '40 frames captured, 8 inferred, drops');
    await pipeline.stop();
    const elapsedMs = performance.now() - t0;

    const c = pipeline.counters();
    // 200 ms a frame, one at a time: no more answers than the time allows (timers are only ever late, so at any speed).
    expect(c.processed).toBeLessThanOrEqual(elapsedMs / 200 + 1);
    expect(detector.maxInFlight).toBeLessThanOrEqual(2);
    expect(c.captured).toBe(c.processed + c.dropped); // nothing unaccounted for
    expect(detector.inputs.every((n) => n === 64 * 48 * 3)).toBe(true);
    const detections = sink.messages.filter((m) => m.topic === 'base/lab/detections');
    expect(detections).toHaveLength(c.processed);
    const first = JSON.parse(detections[0]!.payload);
    expect(first).toMatchObject({ camera: 'lab', frame: { width: 160, height: 120 }, results: [{ label: 'cat', box: { xmin: 0.25 } }] });
    const seqs = detections.map((m) => JSON.parse(m.payload).seq as number);
    expect(seqs.some((s, i) => i > 0 && s - seqs[i - 1]! > 1)).toBe(true); // gaps in seq show the drops
    // The camera's state went out on its retained status topic: online while frames flowed.
    const status = sink.messages.filter((m) => m.topic === 'base/lab/status').map((m) => JSON.parse(m.payload).state);
    expect(status[0]).toBe('online');
  }, TEST_MS);

  it('caps inference at detect.fps even when the detector is fast', async () => {
    const source = new FfmpegSource(
      'lab',
      { input: 'testsrc2=size=320x240:rate=25', inputOptions: ['-re', '-f', 'lavfi'], width: 160, height: 120, fps: 25, ffmpegPath: 'ffmpeg' },
      silentLogger(),
    );
    const pipeline = new CameraPipeline(
      { camera: 'lab', detectFps: 4, resize: 'letterbox', filters: { minScore: 0, labels: [], perLabel: {}, maxResults: 10 }, publish: { qos: 0, retain: false, offline: 'queue' } },
      source,
      slowDetector(1),
      recorder(),
      silentLogger(),
    );
    const t0 = performance.now();
    await pipeline.start();
    await until(() => pipeline.counters().processed >= 1, WAIT_MS, 'the first frame inferred');
    // A window to count in (2 s: without the cap, ~50 frames at 25 fps): the verdict below holds at any speed.
    const first = performance.now();
    await until(() => performance.now() - first >= 2000 && pipeline.counters().processed >= 3, WAIT_MS, '2 s of inference');
    await pipeline.stop();
    const elapsedMs = performance.now() - t0;
    const c = pipeline.counters();
    // detect.fps 4: inferences start at least 250 ms apart, so no more than the elapsed time allows, however fast
    // the detector (timers are only ever late).
    expect(c.processed).toBeLessThanOrEqual(Math.floor(elapsedMs / 250) + 1);
    expect(c.captured).toBe(c.processed + c.dropped);
  }, TEST_MS);

  const options = { camera: 'lab', detectFps: 0, resize: 'stretch' as const, filters: { minScore: 0, labels: [], perLabel: {}, maxResults: 10 }, publish: { qos: 0 as const, retain: false, offline: 'queue' as const } };

  it('infers every image of an on-demand files source once, in order, none dropped', async () => {
    const source = new FilesSource('lab', { path: path.resolve('../shared/images'), fps: 0, loop: false }, silentLogger());
    const detector = slowDetector(5);
    const sink = recorder();
    const pipeline = new CameraPipeline(options, source, detector, sink, silentLogger());
    await pipeline.start();
    await until(() => pipeline.counters().processed >= 9, WAIT_MS, 'the 9 images inferred');
    await pipeline.stop();
    const c = pipeline.counters();
    expect(c).toMatchObject({ captured: 9, processed: 9, dropped: 0, errors: 0 });
    const seqs = sink.messages.filter((m) => m.topic === 'base/lab/detections').map((m) => JSON.parse(m.payload).seq as number);
    expect(seqs).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(detector.maxInFlight).toBeLessThanOrEqual(2);
  }, TEST_MS);

  it('keeps at most two frames in flight when frames come on demand and inference is faster than preparing one', async () => {
    // A 640x480 frame takes longer to prepare than this detector takes to answer, and the source never makes the
    // pipeline wait: only the in-flight bound keeps requests from piling up.
    const source = new SyntheticSource('lab', { fps: 5 });
    const detector = slowDetector(0);
    const pipeline = new CameraPipeline(options, source, detector, recorder(), silentLogger());
    const t0 = performance.now();
    await pipeline.start();
    // Enough frames for the bound to be tested, counted rather than timed (preparing a frame is slower under load).
    await until(() => pipeline.counters().processed > 50, WAIT_MS, '50 frames inferred');
    await pipeline.stop();
    const elapsedMs = performance.now() - t0;
    const c = pipeline.counters();
    // On demand: far more frames than the source's 5 fps timer gave in that time (a ratio in the same run).
    expect(c.processed).toBeGreaterThan(2 * (elapsedMs / 200 + 1));
    expect(detector.maxInFlight).toBeLessThanOrEqual(2);
    expect(detector.inputs.length).toBe(c.processed);
    expect(c.captured).toBe(c.processed + c.dropped);
  }, TEST_MS);
});
