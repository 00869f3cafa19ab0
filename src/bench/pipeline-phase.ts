import { performance } from 'node:perf_hooks';
import type { FrameSource } from '../camera/frame.js';
import type { Detector } from '../inference/detector.js';
import { CameraPipeline, type DetectionSink } from '../pipeline/camera-pipeline.js';
import type { Logger } from '../system/logger.js';
import type { DetectionsProbe, ReceivedDetection } from './detections-probe.js';
import type { PhaseTime } from './plan.js';
import { fpsOver, SampleSet, type Summary } from './stats.js';
import { TimedDetector } from './timed-detector.js';

export interface PipelinePhaseOptions {
  camera: string;
  source: FrameSource;
  detector: Detector;
  sink: DetectionSink;
  probe: DetectionsProbe;
  time: PhaseTime;
  log: Logger;
  /** performance.now() of a frame's capture by seq, when the source keeps it (finer than the payload's `ts`). */
  capturedAt?(seq: number): number | undefined;
  /** Called when warm-up is over and again when measuring ends (process samples, RSS). */
  onMeasureStart?(): void;
  onMeasureEnd?(): void;
}

export interface StagePercentiles {
  p50: number;
  p99: number;
}

export interface PipelinePhaseResult {
  /** Frames processed a second while measuring. */
  fps: number;
  /** Time between consecutive detector answers: the pipeline's time per frame (its frame period when saturated). */
  perFrameMs: Summary;
  /** Per frame, how long the detector sat idle waiting for the pipeline (0 when the next frame was already queued). */
  detectorIdleMs: Summary;
  /** The runtime's own time per frame inside the pipeline (host-side \`infer()\`): slower than raw when the work around it competes. */
  runtimeMs: Summary;
  /** Preprocess + inference + postprocess of each frame, as its payload reports them (a frame's own latency). */
  frameLatencyMs: Summary;
  /** Per-stage percentiles from the pipeline's own CameraStats. */
  stagesMs: Record<string, StagePercentiles>;
  /** Frame capture to the detections message arriving back from the broker. */
  endToEndMs: Summary;
  frames: { captured: number; processed: number; dropped: number; errors: number; received: number; otherBackend: number };
}

/** Messages of frames processed just before stop still travel through the broker: give them this long. */
const DRAIN_MS = 300;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One source through a real CameraPipeline to the real publisher: warm up, reset the pipeline's stats, measure, stop.
 * Only frames captured while measuring count toward end to end; the pipeline is always stopped.
 */
export async function runPipelinePhase(opts: PipelinePhaseOptions, expectBackend: string): Promise<PipelinePhaseResult> {
  const timed = new TimedDetector(opts.detector);
  const pipeline = new CameraPipeline(
    {
      camera: opts.camera,
      detectFps: 0,
      resize: 'stretch',
      filters: { minScore: 0.5, labels: [], perLabel: {}, maxResults: 20 },
      publish: { qos: 1, retain: false, offline: 'queue' },
    },
    opts.source,
    timed,
    opts.sink,
    opts.log,
  );
  const frameLatency = new SampleSet();
  const e2e = new SampleSet();
  let markAt = Infinity;
  let endAt = Infinity;
  let received = 0;
  let otherBackend = 0;
  const onDetection = (d: ReceivedDetection): void => {
    if (d.camera !== opts.camera) return;
    const precise = opts.capturedAt?.(d.seq);
    const capturedAt = precise ?? d.capturedWall - performance.timeOrigin;
    if (!(capturedAt >= markAt && capturedAt <= endAt)) return;
    received++;
    if (expectBackend && d.backend && d.backend !== expectBackend) otherBackend++;
    e2e.add(precise !== undefined ? d.receivedAt - precise : d.receivedWall - d.capturedWall);
    const { preprocess, inference, postprocess } = d.latencyMs;
    if (typeof preprocess === 'number' && typeof inference === 'number' && typeof postprocess === 'number') {
      frameLatency.add(preprocess + inference + postprocess);
    }
  };
  opts.probe.onDetection(onDetection);

  let result: Pick<PipelinePhaseResult, 'fps' | 'stagesMs'> & { frames: Omit<PipelinePhaseResult['frames'], 'received' | 'otherBackend'> };
  await pipeline.start();
  try {
    await sleep(opts.time.warmupMs);
    pipeline.snapshot(1); // closes the warm-up interval: its latencies are discarded
    const before = { ...pipeline.counters() };
    frameLatency.begin();
    e2e.begin();
    timed.begin();
    markAt = performance.now();
    opts.onMeasureStart?.();
    await sleep(opts.time.measureMs);
    endAt = performance.now();
    timed.end();
    opts.onMeasureEnd?.();
    const elapsedMs = endAt - markAt;
    const snap = pipeline.snapshot(elapsedMs / 1000);
    const after = snap.totals;
    const stagesMs = Object.fromEntries(Object.entries(snap.latencyMs).map(([stage, s]) => [stage, { p50: s.p50, p99: s.p99 }]));
    result = {
      fps: fpsOver(after.processed - before.processed, elapsedMs),
      stagesMs,
      frames: {
        captured: after.captured - before.captured,
        processed: after.processed - before.processed,
        dropped: after.dropped - before.dropped,
        errors: after.errors - before.errors,
      },
    };
  } finally {
    await pipeline.stop();
  }
  await sleep(DRAIN_MS);
  opts.probe.onDetection(undefined);
  frameLatency.end();
  e2e.end();
  return {
    ...result,
    perFrameMs: timed.periodMs.summary(),
    detectorIdleMs: timed.idleMs.summary(),
    runtimeMs: timed.runtimeMs.summary(),
    frameLatencyMs: frameLatency.summary(),
    endToEndMs: e2e.summary(),
    frames: { ...result.frames, received, otherBackend },
  };
}
