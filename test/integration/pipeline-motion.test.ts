import { describe, expect, it } from 'vitest';
import type { Frame, FrameSink, FrameSource, SourceCounters } from '../../src/camera/frame.js';
import type { MotionConfig } from '../../src/config/cameras.js';
import type { Detector } from '../../src/inference/detector.js';
import type { Detection } from '../../src/inference/types.js';
import { CameraPipeline, type DetectionSink } from '../../src/pipeline/camera-pipeline.js';
import { cutByEdge, detectRegions, mergeAcrossRegions } from '../../src/pipeline/region-detect.js';
import { i420Layout } from '../../src/pixels/i420-layout.js';
import { silentLogger } from '../../src/system/logger.js';
import { until } from '../helpers/wait.js';

const W = 1280;
const H = 720;
const layout = i420Layout(W, H, 'none');
/** Frame time per frame: the planner reads time from the frames, so the scene plays the same at any machine speed. */
const STEP_MS = 200;

interface Shot {
  /** Left edge of a dark 80x80 square at y 300, or none. */
  square?: number;
  brighten?: number;
}

/** A scripted camera that makes its next frame when the pipeline asks (pull): every frame is seen, in order. */
class ScriptedSource implements FrameSource {
  private sink: FrameSink | undefined;
  private next = 0;
  private readonly t0 = performance.now();
  constructor(
    readonly camera: string,
    private readonly shots: Shot[],
  ) {}
  get done(): boolean {
    return this.next >= this.shots.length;
  }
  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
  }
  pull(): void {
    const shot = this.shots[this.next];
    if (!shot || !this.sink) return;
    const data = new Uint8Array(layout.frameSize).fill(128);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = Math.min(255, 110 + (((x >> 4) + (y >> 4)) % 3) * 15 + (shot.brighten ?? 0));
    if (shot.square !== undefined) for (let y = 300; y < 380; y++) data.fill(5, y * W + shot.square, y * W + shot.square + 80);
    const seq = this.next++;
    const frame: Frame = {
      camera: this.camera,
      seq,
      capturedAt: this.t0 + seq * STEP_MS,
      wallTime: Date.now(),
      captureMs: 0,
      width: W,
      height: H,
      i420: { data, layout },
      get data(): Buffer {
        throw new Error('the pipeline must not need RGB');
      },
      origin: 'script',
    };
    this.sink.frame(frame);
  }
  async stop(): Promise<void> {}
  counters(): SourceCounters {
    return { captured: this.next, skipped: 0, restarts: 0 };
  }
}

/**
 * A detector that finds dark pixels in its input, wherever they come from: its boxes are in model-input coordinates,
 * so a published box where the square really is proves the crop and the mapping back to the frame.
 */
function darkFinder() {
  const inputs: number[] = [];
  const detector: Detector = {
    backend: 'cpu',
    model: { name: 'dark.tflite', path: '/dark.tflite', kind: 'ssd', inputWidth: 300, inputHeight: 300 },
    start: async () => undefined,
    stop: async () => undefined,
    detect: async (input) => {
      inputs.push(input.length);
      let x0 = 300;
      let y0 = 300;
      let x1 = -1;
      let y1 = -1;
      for (let y = 0; y < 300; y++) {
        for (let x = 0; x < 300; x++) {
          if (input[(y * 300 + x) * 3]! < 40) {
            x0 = Math.min(x0, x);
            x1 = Math.max(x1, x);
            y0 = Math.min(y0, y);
            y1 = Math.max(y1, y);
          }
        }
      }
      const results: Detection[] = x1 < 0 ? [] : [{ label: 'square', classId: 1, score: 0.9, box: { xmin: x0 / 300, ymin: y0 / 300, xmax: (x1 + 1) / 300, ymax: (y1 + 1) / 300 } }];
      return { results, inferenceMs: 1, backend: 'cpu' };
    },
  };
  return { detector, inferences: () => inputs.length };
}

function recorder(): DetectionSink & { on: (t: string) => string[] } {
  const messages: { topic: string; payload: string }[] = [];
  return {
    topic: (...p) => ['b', ...p].join('/'),
    publish: (topic, payload) => messages.push({ topic, payload: payload.toString() }),
    on: (t) => messages.filter((m) => m.topic === t).map((m) => m.payload),
  };
}

const filters = { minScore: 0.5, labels: [], perLabel: {}, maxResults: 10 };
const publish = { qos: 1 as const, retain: false, offline: 'queue' as const };
const motion: MotionConfig = { enabled: true, threshold: 25, minArea: 0.001, masks: [], idleDetectSec: 100, maxRegions: 3 };

describe('motion-gated detection in the pipeline', () => {
  it('still: nothing; moving: regions at full resolution; after: one re-check; lights: one full frame; motion ON then OFF', async () => {
    const still = Array.from({ length: 15 }, (): Shot => ({}));
    const moving = Array.from({ length: 20 }, (_, i): Shot => ({ square: 100 + i * 40 }));
    const gone = Array.from({ length: 25 }, (): Shot => ({}));
    const lights = Array.from({ length: 20 }, (): Shot => ({ brighten: 80 }));
    const shots = [...still, ...moving, ...gone, ...lights];
    const source = new ScriptedSource('cam', shots);
    const dark = darkFinder();
    const sink = recorder();
    const pipeline = new CameraPipeline({ camera: 'cam', detectFps: 0, resize: 'stretch', filters, publish, motion }, source, dark.detector, sink, silentLogger());
    await pipeline.start();
    try {
      await until(() => source.done && pipeline.counters().processed + pipeline.framesSetAside >= shots.length, 60_000, 'every frame finished');
    } finally {
      await pipeline.stop();
    }
    const runs = sink.on('b/cam/detections').map((p) => JSON.parse(p) as { seq: number; trigger: string; motion: boolean; regions: { xmin: number; xmax: number; ymin: number; ymax: number }[]; results: Detection[] });
    const inPhase = (from: number, to: number) => runs.filter((r) => r.seq >= from && r.seq < to);

    // Still: the first frame only (whole), nothing after.
    expect(inPhase(0, 15).map((r) => r.trigger)).toEqual(['idle']);
    expect(inPhase(0, 15)[0]!.regions).toEqual([{ xmin: 0, ymin: 0, xmax: 1, ymax: 1 }]);

    // Moving: every frame detected, in regions (never the whole frame), the square found where it is.
    const mov = inPhase(15, 35);
    expect(mov.length).toBe(20);
    for (const r of mov) {
      expect(r.trigger).toBe('motion');
      expect(r.motion).toBe(true);
      expect(r.regions.length).toBeGreaterThan(0);
      expect(r.regions.length).toBeLessThanOrEqual(motion.maxRegions);
      for (const g of r.regions) expect((g.xmax - g.xmin) * W).toBeCloseTo((g.ymax - g.ymin) * H, -1); // square crops
      expect(r.results).toHaveLength(1);
      const box = r.results[0]!.box!;
      const x = 100 + (r.seq - 15) * 40;
      expect(Math.abs(box.xmin * W - x)).toBeLessThan(6);
      expect(Math.abs(box.xmax * W - (x + 80))).toBeLessThan(6);
      expect(Math.abs(box.ymin * H - 300)).toBeLessThan(6);
      expect(Math.abs(box.ymax * H - 380)).toBeLessThan(6);
    }

    // Gone: the last place it was seen is looked at again (a re-check, or motion where it left), then nothing.
    const after = inPhase(35, 60);
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(after.length).toBeLessThanOrEqual(3);
    expect(after.at(-1)!.results).toEqual([]);

    // Lights on: one whole-frame detection, then calm.
    const lit = inPhase(60, 80);
    expect(lit.map((r) => r.trigger)).toEqual(['calibration']);

    // The motion topic: OFF at start, ON while it moved, OFF again after.
    const states = sink.on('b/cam/motion');
    expect(states[0]).toBe('OFF');
    expect(states).toContain('ON');
    expect(states.at(-1)).toBe('OFF');
    expect(states.filter((s, i) => i > 0 && s === states[i - 1])).toEqual([]); // only changes are published

    // Stats: what ran and what it cost.
    const snap = pipeline.snapshot(1).motion!;
    expect(snap.totals.frames).toBe(shots.length);
    expect(snap.totals.detectorRuns).toBe(runs.length);
    expect(snap.totals.inferences).toBe(dark.inferences());
    expect(snap.totals.skipped).toBe(shots.length - runs.length);
    expect(snap.totals.framesWithMotion).toBeGreaterThanOrEqual(20);
    // Every frame accounted for.
    const c = pipeline.counters();
    expect(c.captured).toBe(c.processed + c.dropped + pipeline.framesSetAside);
  });
});

describe('an object cut by a region edge', () => {
  it('is detected again, whole, in a region grown towards the cut, within the frame budget', async () => {
    const source = new ScriptedSource('cam', [{ square: 500 }]);
    let frame: Frame | undefined;
    await source.start({ frame: (f) => (frame = f), skipped: () => undefined, ended: () => undefined });
    source.pull();
    const dark = darkFinder();
    // The region ends in the middle of the square (x 500..580): the first answer sees only its left half.
    const cut = await detectRegions(frame!, [{ x: 240, y: 190, w: 300, h: 300 }], dark.detector, 2, 0.5);
    const out = await cut.answer;
    expect(dark.inferences()).toBe(2);
    expect(cut.regions).toHaveLength(2);
    expect(out.results).toHaveLength(1);
    const box = out.results[0]!.box!;
    expect(Math.abs(box.xmin * W - 500)).toBeLessThan(6);
    expect(Math.abs(box.xmax * W - 580)).toBeLessThan(6);
    // With no budget left, the piece is what there is.
    const tight = darkFinder();
    const piece = await (await detectRegions(frame!, [{ x: 240, y: 190, w: 300, h: 300 }], tight.detector, 1, 0.5)).answer;
    expect(tight.inferences()).toBe(1);
    expect(piece.results[0]!.box!.xmax * W).toBeLessThan(545);
  });
});

describe('merging across regions', () => {
  const d = (label: string, score: number, xmin: number, xmax: number): Detection => ({ label, classId: 0, score, box: { xmin, ymin: 0.1, xmax, ymax: 0.3 } });

  it('keeps the best of one object seen in two regions, and objects of other labels', () => {
    const out = mergeAcrossRegions([d('cat', 0.6, 0.1, 0.3), d('cat', 0.8, 0.11, 0.31), d('dog', 0.7, 0.1, 0.3)]);
    expect(out.map((x) => `${x.label} ${x.score}`)).toEqual(['cat 0.8', 'dog 0.7']);
  });

  it('drops a piece lying inside a better box of the same label, keeps separate objects', () => {
    const out = mergeAcrossRegions([d('person', 0.9, 0.1, 0.4), d('person', 0.5, 0.3, 0.4), d('person', 0.7, 0.6, 0.8)]);
    expect(out.map((x) => x.score)).toEqual([0.9, 0.7]);
  });

  it('a box at a region edge inside the frame is cut; at the frame edge it is not', () => {
    const rect = { x: 300, y: 100, w: 300, h: 300 };
    expect(cutByEdge({ xmin: 300 / 1280, ymin: 0.3, xmax: 400 / 1280, ymax: 0.4 }, rect, 1280, 720)).toBe(true);
    expect(cutByEdge({ xmin: 350 / 1280, ymin: 0.3, xmax: 450 / 1280, ymax: 0.4 }, rect, 1280, 720)).toBe(false);
    expect(cutByEdge({ xmin: 0, ymin: 0.3, xmax: 0.1, ymax: 0.4 }, { x: 0, y: 100, w: 300, h: 300 }, 1280, 720)).toBe(false);
  });
});
