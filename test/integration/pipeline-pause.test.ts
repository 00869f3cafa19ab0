import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesSource } from '../../src/camera/files-source.js';
import type { Frame, FrameSink, FrameSource, SourceCounters } from '../../src/camera/frame.js';
import type { Detector } from '../../src/inference/detector.js';
import { CameraEvents } from '../../src/pipeline/camera-events.js';
import { CameraPipeline, type DetectionSink } from '../../src/pipeline/camera-pipeline.js';
import { silentLogger } from '../../src/system/logger.js';
import { until } from '../helpers/wait.js';

/** A camera on a timer (no pull): its frames come whether or not anyone detects them. */
class TimedSource implements FrameSource {
  private timer: NodeJS.Timeout | undefined;
  private readonly count: SourceCounters = { captured: 0, skipped: 0, restarts: 0 };
  constructor(
    readonly camera: string,
    private readonly everyMs: number,
  ) {}
  async start(sink: FrameSink): Promise<void> {
    this.timer = setInterval(() => {
      const now = performance.now();
      const frame: Frame = { camera: this.camera, seq: this.count.captured++, capturedAt: now, wallTime: Date.now(), captureMs: 0, width: 16, height: 16, data: Buffer.alloc(16 * 16 * 3), origin: 'timer' };
      sink.frame(frame);
    }, this.everyMs);
  }
  async stop(): Promise<void> {
    clearInterval(this.timer);
  }
  counters(): SourceCounters {
    return { ...this.count };
  }
}

/** A detector that sees one cat, and can be held: `gate()` makes the next inference wait for `open()`. */
function catDetector() {
  let hold: Promise<void> | undefined;
  let open: (() => void) | undefined;
  let calls = 0;
  const detector: Detector = {
    backend: 'cpu',
    model: { name: 'fake.tflite', path: '/fake.tflite', kind: 'ssd', inputWidth: 8, inputHeight: 8 },
    start: async () => undefined,
    stop: async () => undefined,
    detect: async () => {
      calls++;
      if (hold) await hold;
      return { results: [{ label: 'cat', classId: 16, score: 0.9, box: { xmin: 0.1, ymin: 0.5, xmax: 0.5, ymax: 0.9 } }], inferenceMs: 1, backend: 'cpu' };
    },
  };
  return {
    detector,
    calls: () => calls,
    gate: () => (hold = new Promise((r) => (open = r))),
    open: () => {
      hold = undefined;
      open?.();
    },
  };
}

function recorder(): DetectionSink & { messages: { topic: string; payload: string }[]; on: (t: string) => string[] } {
  const messages: { topic: string; payload: string }[] = [];
  return {
    messages,
    topic: (...p) => ['b', ...p].join('/'),
    publish: (topic, payload) => messages.push({ topic, payload: payload.toString() }),
    on: (t) => messages.filter((m) => m.topic === t).map((m) => m.payload),
  };
}

const filters = { minScore: 0.5, labels: [], perLabel: {}, maxResults: 10 };
const publish = { qos: 1 as const, retain: false, offline: 'queue' as const };

describe('detection paused and resumed (detect/set)', () => {
  it('a timed camera keeps capturing while paused; its frames are set aside, not detected, not counted as drops', async () => {
    const sink = recorder();
    const cat = catDetector();
    const events = new CameraEvents(
      { camera: 'cam', tracker: { minHits: 1 }, labels: [], snapshots: { enabled: false, maxWidth: 64, quality: 50 }, eventPublish: publish },
      sink,
      silentLogger(),
    );
    const pipeline = new CameraPipeline({ camera: 'cam', detectFps: 0, resize: 'stretch', filters, publish }, new TimedSource('cam', 10), cat.detector, sink, silentLogger(), events);
    await pipeline.start();
    try {
      await until(() => pipeline.counters().processed >= 3, 20_000, 'detections');
      expect(sink.on('b/cam/occupancy').at(-1)).toBe('ON');
      pipeline.setDetecting(false);
      expect(pipeline.detecting).toBe(false);
      // Nobody is looking: the cat's event ends and the counts drop, at once.
      expect(JSON.parse(sink.on('b/cam/events').at(-1)!)).toMatchObject({ type: 'end', label: 'cat' });
      expect(sink.on('b/cam/occupancy').at(-1)).toBe('OFF');
      expect(sink.on('b/cam/count/cat').at(-1)).toBe('0');
      const published = sink.on('b/cam/detections').length;
      const eventsSoFar = sink.on('b/cam/events').length;
      const captured = pipeline.counters().captured;
      const calls = cat.calls();
      await until(() => pipeline.framesSetAside >= 10, 20_000, 'ten frames set aside');
      expect(pipeline.counters().captured).toBeGreaterThanOrEqual(captured + 10);
      // At most the frame already in inference when the command came is answered (and then set aside, unpublished).
      expect(cat.calls()).toBeLessThanOrEqual(calls + 1);
      expect(sink.on('b/cam/detections')).toHaveLength(published);
      expect(sink.on('b/cam/events')).toHaveLength(eventsSoFar); // no new event for a frame answered after the pause

      pipeline.setDetecting(true);
      await until(() => sink.on('b/cam/detections').length >= published + 3, 20_000, 'detections after resuming');
      expect(sink.on('b/cam/occupancy').at(-1)).toBe('ON');
    } finally {
      await pipeline.stop();
    }
    const c = pipeline.counters();
    // Every frame is accounted for: detected, dropped (capture outran inference), or set aside while paused.
    expect(c.captured).toBe(c.processed + c.dropped + pipeline.framesSetAside);
  });

  it('an on-demand files camera reads no file while paused', async () => {
    const sink = recorder();
    const cat = catDetector();
    const source = new FilesSource('cam', { path: path.resolve('../shared/images/cat.bmp'), fps: 0, loop: true }, silentLogger());
    const pipeline = new CameraPipeline({ camera: 'cam', detectFps: 0, resize: 'stretch', filters, publish, detecting: false }, source, cat.detector, sink, silentLogger());
    await pipeline.start();
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(pipeline.counters().captured).toBe(0); // started paused (a detect state kept from the last run): not a frame
      expect(cat.calls()).toBe(0);
      pipeline.setDetecting(true);
      await until(() => pipeline.counters().processed >= 3, 20_000, 'detections after resuming');
      pipeline.setDetecting(false);
      const captured = pipeline.counters().captured;
      await new Promise((r) => setTimeout(r, 300));
      expect(pipeline.counters().captured).toBeLessThanOrEqual(captured + 1); // at most the pull already made
    } finally {
      await pipeline.stop();
    }
  });

  it('a frame whose inference was under way when detection paused is set aside, not published', async () => {
    const sink = recorder();
    const cat = catDetector();
    const source = new FilesSource('cam', { path: path.resolve('../shared/images/cat.bmp'), fps: 0, loop: true }, silentLogger());
    const pipeline = new CameraPipeline({ camera: 'cam', detectFps: 0, resize: 'stretch', filters, publish }, source, cat.detector, sink, silentLogger());
    await pipeline.start();
    try {
      await until(() => pipeline.counters().processed >= 1, 20_000, 'a detection');
      cat.gate();
      const calls = cat.calls();
      await until(() => cat.calls() > calls, 20_000, 'an inference held at the gate');
      const published = sink.on('b/cam/detections').length;
      pipeline.setDetecting(false);
      cat.open();
      await until(() => pipeline.framesSetAside >= 1, 20_000, 'the held frame set aside');
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.on('b/cam/detections').length).toBe(published);
    } finally {
      await pipeline.stop();
    }
  });

  it('take-snapshot while paused: an on-demand camera is asked for one frame, published without detection', async () => {
    const sink = recorder();
    const cat = catDetector();
    const source = new FilesSource('cam', { path: path.resolve('../shared/images/cat.bmp'), fps: 0, loop: true }, silentLogger());
    const events = new CameraEvents(
      { camera: 'cam', tracker: { minHits: 1 }, labels: [], snapshots: { enabled: true, maxWidth: 64, quality: 50 }, eventPublish: publish },
      sink,
      silentLogger(),
    );
    const pipeline = new CameraPipeline({ camera: 'cam', detectFps: 0, resize: 'stretch', filters, publish, detecting: false }, source, cat.detector, sink, silentLogger(), events);
    await pipeline.start();
    try {
      pipeline.requestSnapshot();
      await until(() => sink.messages.some((m) => m.topic === 'b/cam/snapshot'), 20_000, 'the snapshot');
      expect(cat.calls()).toBe(0);
      expect(sink.on('b/cam/detections')).toEqual([]);
      await new Promise((r) => setTimeout(r, 200));
      expect(pipeline.counters().captured).toBe(1); // one frame for one snapshot, then nothing
    } finally {
      await pipeline.stop();
    }
  });

  it('stop ends a paused pipeline promptly', async () => {
    const cat = catDetector();
    const source = new FilesSource('cam', { path: path.resolve('../shared/images/cat.bmp'), fps: 0, loop: true }, silentLogger());
    const pipeline = new CameraPipeline({ camera: 'cam', detectFps: 0, resize: 'stretch', filters, publish, detecting: false }, source, cat.detector, recorder(), silentLogger());
    await pipeline.start();
    let stopped = false;
    const stopping = pipeline.stop().then(() => (stopped = true));
    await until(() => stopped, 10_000, 'the paused pipeline to stop');
    await stopping;
  });
});
