import { afterEach, describe, expect, it, vi } from 'vitest';
import { StillSource } from '../../src/bench/still-source.js';
import type { FrameSource } from '../../src/camera/frame.js';
import type { Detector, DetectResult } from '../../src/inference/detector.js';
import { CameraPipeline, type DetectionSink } from '../../src/pipeline/camera-pipeline.js';
import { silentLogger } from '../../src/system/logger.js';

/**
 * A camera that pushes frames when the test says so (an rpicam-vid or ffmpeg source, without the process): a
 * StillSource whose pull the test calls, offered to the pipeline without `pull`, so the pipeline cannot ask for frames.
 */
function pushSource(): FrameSource & { push(): void } {
  const still = new StillSource({ width: 16, height: 12, data: Buffer.alloc(16 * 12 * 3, 100) }, 'cam');
  return { camera: 'cam', start: (sink) => still.start(sink), stop: () => still.stop(), counters: () => still.counters(), push: () => still.pull() };
}

/** Answers each frame when the test says so, as the inference host's answer arrives (no timer of its own). */
function manualDetector(): Detector & { answerNext(): void; waiting(): number } {
  const queue: ((r: DetectResult) => void)[] = [];
  return {
    backend: 'cpu',
    model: { name: 'fake.tflite', path: '/fake.tflite', kind: 'ssd', inputWidth: 8, inputHeight: 8 },
    start: async () => undefined,
    stop: async () => undefined,
    detect: () => new Promise<DetectResult>((resolve) => queue.push(resolve)),
    answerNext: () => queue.shift()?.({ results: [], inferenceMs: 3, backend: 'cpu' }),
    waiting: () => queue.length,
  } as Detector & { answerNext(): void; waiting(): number };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe('a pipeline on a camera that pushes frames more slowly than the detector answers (a Coral)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('waits for the next frame itself, not on a timer: no timer a frame, and every frame is detected', async () => {
    const source = pushSource();
    const detector = manualDetector();
    const published: string[] = [];
    const sink: DetectionSink = { topic: (...p) => p.join('/'), publish: (t) => void published.push(t) };
    const pipeline = new CameraPipeline(
      { camera: 'cam', detectFps: 0, resize: 'stretch', filters: { minScore: 0, labels: [], perLabel: {}, maxResults: 10 }, publish: { qos: 1, retain: false, offline: 'queue' } },
      source,
      detector,
      sink,
      silentLogger(),
    );
    await pipeline.start();
    // Learn the runtime first (the loop's estimate of when an inference ends comes from the answers).
    for (let i = 0; i < 3; i++) {
      source.push();
      await settle();
      detector.answerNext();
      await settle();
    }
    const timers = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 20; i++) {
      source.push(); // a frame arrives; the detector is idle: it gets it at once
      await settle();
      expect(detector.waiting()).toBe(1);
      detector.answerNext(); // answered long before the next frame
      await settle();
    }
    const pipelineTimers = timers.mock.calls.length;
    await pipeline.stop();
    expect(pipelineTimers).toBe(0);
    expect(published.filter((t) => t === 'cam/detections')).toHaveLength(23);
    expect(pipeline.counters()).toMatchObject({ captured: 23, processed: 23, dropped: 0 });
  });
});
