import { describe, expect, it } from 'vitest';
import { SyntheticSource } from '../../src/bench/synthetic-source.js';
import type { FrameSource } from '../../src/camera/frame.js';
import type { Detector } from '../../src/inference/detector.js';
import { CameraPipeline, type DetectionSink } from '../../src/pipeline/camera-pipeline.js';
import { silentLogger } from '../../src/system/logger.js';
import { until } from '../helpers/wait.js';

/**
 * One inference at a time, as the inference host runs them, in arrival order; each takes `ms`. Answers are counted
 * per camera, whatever the clock does: the shares are what the test judges, not the rates.
 */
function serialDetector(ms: number): Detector {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    backend: 'cpu',
    model: { name: 'fake.tflite', path: '/fake.tflite', kind: 'ssd', inputWidth: 16, inputHeight: 16 },
    start: async () => undefined,
    stop: async () => undefined,
    detect: () => {
      const run = chain.then(() => new Promise((r) => setTimeout(r, ms)));
      chain = run;
      return run.then(() => ({ results: [], inferenceMs: ms, backend: 'cpu' as const }));
    },
  };
}

const sink: DetectionSink = { topic: (...p) => p.join('/'), publish: () => undefined };

function pipeline(source: FrameSource, detector: Detector): CameraPipeline {
  return new CameraPipeline(
    { camera: source.camera, detectFps: 0, resize: 'stretch', filters: { minScore: 0.5, labels: [], perLabel: {}, maxResults: 20 }, publish: { qos: 0, retain: false, offline: 'latest' } },
    source,
    detector,
    sink,
    silentLogger(),
  );
}

describe('cameras sharing one detector', () => {
  it('each gets its share when all outrun the detector, and a camera far faster than the rest starves none', async () => {
    const detector = serialDetector(3);
    // One camera streams 500 frames a second on its own timer; the two others make a frame whenever asked (as fast as
    // anything can be): all three have a frame ready whenever the detector could take one.
    const sources = [
      new SyntheticSource('flood', { fps: 500, width: 64, height: 48 }),
      new SyntheticSource('a', { fps: 1, width: 64, height: 48 }),
      new SyntheticSource('b', { fps: 1, width: 64, height: 48 }),
    ];
    // The flood camera is made on a timer only: no pull, like a real camera.
    Object.defineProperty(sources[0], 'pull', { value: undefined });
    const pipelines = sources.map((s) => pipeline(s, detector));
    for (const p of pipelines) await p.start();
    try {
      const total = (): number => pipelines.reduce((a, p) => a + p.counters().processed, 0);
      await until(() => total() >= 300, 60_000, '300 frames processed');
    } finally {
      for (const p of pipelines) await p.stop();
    }
    const done = pipelines.map((p) => p.counters().processed);
    const sum = done.reduce((a, b) => a + b, 0);
    // Fair is a third each; the detector serves requests in arrival order and each camera has at most two in flight.
    for (const n of done) expect(n / sum, `processed per camera: ${done.join(', ')}`).toBeGreaterThan(0.25);
    expect(Math.min(...done) / Math.max(...done)).toBeGreaterThan(0.8);
  }, 90_000);
});
