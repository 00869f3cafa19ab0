import { describe, expect, it } from 'vitest';
import type { PipelinePhaseResult } from '../../src/bench/pipeline-phase.js';
import type { RawResult } from '../../src/bench/raw-loop.js';
import { alignColumns, buildReport, formatTable, type ReportParts } from '../../src/bench/report.js';
import { summarize } from '../../src/bench/stats.js';

const stages = (inference: number, capture = 0): PipelinePhaseResult['stagesMs'] => ({
  capture: { p50: capture, p99: capture * 2 },
  preprocess: { p50: 3.5, p99: 6 },
  inference: { p50: inference, p99: inference + 5 },
  postprocess: { p50: 0.25, p99: 0.5 },
  total: { p50: capture + 3.5 + inference + 0.25, p99: 90 },
});

const raw: RawResult = {
  threads: 1,
  fps: 14.9,
  inferenceMs: summarize([66, 67, 67, 68, 70]),
  roundTripFps: 14.6,
  roundTripMs: summarize([67.5, 68, 68.2, 69, 71]),
  loadMs: 120,
};

const phase = (fps: number, perFrame: number[], inference: number, capture = 0): PipelinePhaseResult => ({
  fps,
  perFrameMs: summarize(perFrame),
  detectorIdleMs: summarize([0, 0, 1, 2, 7]), // mean 2
  runtimeMs: summarize([67, 67.5, 68, 68.5, 69]), // p50 68: 1 ms slower than raw's 67
  frameLatencyMs: summarize(perFrame.map((v) => v + 1)),
  stagesMs: stages(inference, capture),
  endToEndMs: summarize(perFrame.map((v) => v + 2)),
  frames: { captured: 400, processed: 100, dropped: 300, errors: 1, received: 99, otherBackend: 0 },
});

const parts: ReportParts = {
  model: 'ssd.tflite',
  backend: 'cpu',
  seconds: 20,
  syntheticFormat: 'i420',
  raw,
  synthetic: phase(13.9, [71, 71.5, 72, 73, 80], 68),
  jpeg: phase(12.5, [72, 73, 74, 75, 90], 68.5, 9),
  process: { rssMb: 102.46, rssAfterWarmupMb: 100.01, rssAfterSyntheticMb: 100.5, cpuPercent: 12.3, eventLoopLagP99Ms: 1.5 },
};

describe('bench report', () => {
  it('has the documented JSON shape with ratio and overhead from the synthetic run', () => {
    const r = buildReport(parts);
    expect(Object.keys(r)).toEqual(
      expect.arrayContaining(['model', 'backend', 'threads', 'raw', 'pipeline', 'ratio', 'stagesMs', 'endToEndMs', 'rssMb', 'cpuPercent', 'eventLoopLagP99Ms', 'jpeg', 'overheadMs', 'rssGrowthMb', 'frames']),
    );
    expect(r.raw).toMatchObject({ fps: 14.9, p50Ms: 67, p99Ms: 70, roundTripFps: 14.6 });
    expect(r.pipeline).toEqual({ fps: 13.9, p50Ms: 72, p99Ms: 80, latencyP50Ms: 73, latencyP99Ms: 81, detectorIdleMs: 2 });
    expect(r.ratio).toBe(0.933);
    expect(r.jpeg).toMatchObject({ fps: 12.5, p50Ms: 74, ratio: 0.839 });
    expect(r.overheadMs).toBe(5);
    expect(r.overheadMeanMs).toBe(4.83); // 1000/13.9 - 1000/14.9
    expect(r.overheadSplitMs).toEqual({ idle: 2, slowdown: 1, hop: 2 });
    expect(r.stagesMs.inference).toEqual({ p50: 68, p99: 73 });
    expect(r.endToEndMs).toEqual({ p50: 74, p99: 82 });
    expect(r.rssMb).toBe(102.5);
    expect(r.rssGrowthMb).toBe(2.5);
    expect(r.rssTrailMb).toEqual({ afterWarmup: 100, afterSynthetic: 100.5, end: 102.5 });
    expect(r.frames).toEqual({ raw: 5, pipeline: 100, jpeg: 100, dropped: 300, errors: 2, received: 198, otherBackend: 0 });
    expect(r.latencyAddedMs).toEqual({ overInferenceStage: 6, overRuntime: 6 }); // e2e p50 74, inference stage p50 68, runtime p50 68
    expect(r.targets.map((t) => [t.name, t.value, t.met])).toEqual([
      ['ratio pipeline/raw', 0.933, false],
      ['non-inference work per frame', 7.5, false], // 5 ms of 67
      ['event-loop lag p99', 1.5, true],
      ['end to end p50 over inference p50', 6, false],
      ['daemon RSS', 102.5, true],
    ]);
    expect(r).not.toHaveProperty('sweep');
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('carries the sweep when there was one', () => {
    const r = buildReport({ ...parts, sweep: [{ threads: 1, fps: 14.9 }, { threads: 2, fps: 3 }] });
    expect(r.sweep).toEqual([{ threads: 1, fps: 14.9 }, { threads: 2, fps: 3 }]);
  });

  it('aligns columns: names left, numbers right', () => {
    expect(alignColumns([['run', 'fps'], ['raw', '390.4'], ['pipeline', '9.0']])).toEqual(['run         fps', 'raw       390.4', 'pipeline    9.0']);
  });

  it('prints every run, stage and the ratio in the table, and marks the best sweep point', () => {
    const text = formatTable(buildReport({ ...parts, sweep: [{ threads: 1, fps: 14.9 }, { threads: 2, fps: 3 }] }));
    const lines = text.split('\n');
    expect(lines[0]).toBe('mobilenet-edge bench: ssd.tflite on cpu, 1 thread, 20 s');
    expect(text).toMatch(/raw infer \(host-side\)\s+14\.9\s+67\.00\s+70\.00\s+5/);
    expect(text).toMatch(/pipeline, synthetic 640x480 I420\s+13\.9\s+72\.00\s+80\.00\s+100/);
    expect(text).toMatch(/pipeline, JPEG files\s+12\.5\s+74\.00/);
    expect(text).toContain('ratio pipeline/raw: 0.933 (JPEG 0.839)');
    expect(text).toContain('overhead per frame: p50 5.00 ms (detector idle 2.00, runtime slower beside the pipeline 1.00, process hop and the rest 2.00), mean 4.83 ms');
    expect(text).toContain('frame latency (preprocess + inference + postprocess): p50 73.00 ms, p99 81.00 ms (JPEG 75.00 / 91.00)');
    for (const stage of ['capture', 'preprocess', 'inference', 'postprocess', 'total', 'end to end']) expect(text).toMatch(new RegExp(`^${stage}`, 'm'));
    expect(text).toMatch(/^capture\s+0\.00\s+0\.00\s+9\.00\s+18\.00$/m);
    expect(text).toContain('rss 102.5 MB (+2.5 MB since warm-up: +0.5 synthetic, +2.0 JPEG)');
    expect(text).toContain("end to end adds 6.00 ms to the inference stage (p50), 6.00 ms to the runtime's own infer() (p50)");
    expect(text).toMatch(/non-inference work per frame +7.5 % +<= 3 % of inference +NOT MET/);
    expect(text).toMatch(/event-loop lag p99 +1.5 +<= 10 ms +met/);
    expect(text).toMatch(/^1 \(best\)\s+14\.9$/m);
    expect(text).toMatch(/^2\s+3\.0$/m);
    // The last column is right-aligned: every row of the runs table ends at the same place.
    const runRows = lines.slice(2, 7);
    expect(runRows[0]).toMatch(/^run \(ms per frame\)\s+fps/);
    expect(new Set(runRows.map((l) => l.length)).size).toBe(1);
  });
});
