import { describe, expect, it } from 'vitest';
import { FfmpegSource } from '../../src/camera/ffmpeg-source.js';
import type { Detector } from '../../src/inference/detector.js';
import { CameraPipeline, type DetectionSink } from '../../src/pipeline/camera-pipeline.js';
import { silentLogger } from '../../src/system/logger.js';

/**
 * A detector that takes `ms` per frame, one frame at a time like the real inference host, and sees one fake cat:
 * the pipeline around it is what is under test.
 */
function slowDetector(ms: number): Detector & { inputs: number[] } {
  const inputs: number[] = [];
  let busy: Promise<unknown> = Promise.resolve();
  return {
    backend: 'cpu',
    model: { name: 'fake.tflite', path: '/fake.tflite', kind: 'ssd', inputWidth: 64, inputHeight: 48 },
    inputs,
    start: async () => undefined,
    stop: async () => undefined,
    detect: async (input) => {
      inputs.push(input.length);
      const mine = busy.then(() => new Promise((r) => setTimeout(r, ms)));
      busy = mine;
      await mine;
      return { results: [{ label: 'cat', classId: 16, score: 0.9, box: { xmin: 0.25, ymin: 0.5, xmax: 0.75, ymax: 1 } }], inferenceMs: ms, backend: 'cpu' };
    },
  };
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
    await pipeline.start();
    await new Promise((r) => setTimeout(r, 3000));
    await pipeline.stop();

    const c = pipeline.counters();
    expect(c.captured).toBeGreaterThanOrEqual(35); // ~20 fps for ~2.5 s once ffmpeg is up
    expect(c.processed).toBeGreaterThanOrEqual(8);
    expect(c.processed).toBeLessThanOrEqual(16); // 200 ms a frame: at most ~5 a second
    expect(c.dropped).toBeGreaterThan(c.processed);
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
  }, 20_000);

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
    await pipeline.start();
    await new Promise((r) => setTimeout(r, 2500));
    await pipeline.stop();
    const c = pipeline.counters();
    expect(c.processed).toBeGreaterThanOrEqual(6);
    expect(c.processed).toBeLessThanOrEqual(11);
    expect(c.captured).toBe(c.processed + c.dropped);
  }, 20_000);
});
