import type { PipelinePhaseResult, StagePercentiles } from './pipeline-phase.js';
import type { RawResult } from './raw-loop.js';
import { overheadOf, ratioOf, round } from './stats.js';
import type { SweepPoint } from './sweep.js';

/** fps and per-frame time of one way of running the model. */
export interface RateBlock {
  fps: number;
  p50Ms: number;
  p99Ms: number;
}

/** A pipeline run: p50Ms/p99Ms are its time per frame (between consecutive detector answers). */
export interface PipelineBlock extends RateBlock {
  /** One frame's own preprocess + inference + postprocess (frames overlap when the pipeline prefetches). */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Mean time per frame the detector sat idle waiting for the pipeline. */
  detectorIdleMs: number;
}

/** What `bench --json` prints: one object. */
export interface BenchReport {
  model: string;
  backend: 'cpu' | 'edgetpu';
  threads: number;
  seconds: number;
  /** The runtime alone, in a host process: fps = 1000 / mean host-side inference time. */
  raw: RateBlock & { roundTripFps: number; roundTripP50Ms: number; roundTripP99Ms: number; loadMs: number; runsFps?: number[] };
  /** What the synthetic camera gave: I420 (as a Pi camera) or packed RGB. */
  syntheticFormat: 'i420' | 'rgb';
  /** The daemon path on synthetic 640x480 frames. */
  pipeline: PipelineBlock;
  /** The same over JPEG files (decoding is the capture stage). */
  jpeg: PipelineBlock & { ratio: number; stagesMs: Record<string, StagePercentiles>; endToEndMs: StagePercentiles };
  /** pipeline.fps / raw.fps. */
  ratio: number;
  stagesMs: Record<string, StagePercentiles>;
  /** Capture to the detections message received back from the broker. */
  endToEndMs: StagePercentiles;
  /** pipeline.p50Ms - raw.p50Ms: what each frame costs beyond the inference itself. */
  overheadMs: number;
  /** The same from the rates (1000 / pipeline.fps - 1000 / raw.fps): the tail included, consistent with `ratio`. */
  overheadMeanMs: number;
  /**
   * Where the overhead goes: `idle`, the detector waiting for the pipeline to hand it a frame (mean per frame);
   * `slowdown`, the runtime's own \`infer()\` slower in the pipeline than alone (p50 against p50: the work around it
   * competes for cores, caches and memory); `hop`, the rest: the trip to the host process and back.
   */
  overheadSplitMs: { idle: number; slowdown: number; hop: number };
  /** Daemon-side RSS at the end, and its growth since the synthetic run's warm-up. */
  rssMb: number;
  rssGrowthMb: number;
  /** RSS after the synthetic warm-up, after the synthetic run (steady work), at the end (after JPEG decoding too). */
  rssTrailMb: { afterWarmup: number; afterSynthetic: number; end: number };
  /** Daemon process CPU (one core = 100) and event-loop lag while the synthetic run was measured. */
  cpuPercent: number;
  eventLoopLagP99Ms: number;
  frames: {
    raw: number;
    pipeline: number;
    jpeg: number;
    /** Frames the synthetic source produced that inference never saw (the source is meant to outrun it). */
    dropped: number;
    errors: number;
    /** Detections messages received (synthetic + JPEG) for frames captured while measuring. */
    received: number;
    /** Frames run on another backend than asked (an Edge TPU run that fell back to the CPU). */
    otherBackend: number;
  };
  sweep?: SweepPoint[];
  /** What end to end adds to inference, p50 against p50: to the pipeline's inference stage, and to the runtime's own infer(). */
  latencyAddedMs: { overInferenceStage: number; overRuntime: number };
  /** The performance targets (issue #6), each with this run's figure. */
  targets: Target[];
}

export interface Target {
  name: string;
  value: number;
  limit: number;
  /** `max`: the value must not exceed the limit; `min`: must reach it. */
  kind: 'max' | 'min';
  unit: string;
  met: boolean;
}

export interface ReportParts {
  model: string;
  backend: 'cpu' | 'edgetpu';
  seconds: number;
  syntheticFormat: 'i420' | 'rgb';
  /** The limit: the faster of the raw runs. */
  raw: RawResult;
  /** Every raw run with the chosen thread count (before and after the synthetic pipeline run). */
  rawRuns?: RawResult[];
  sweep?: SweepPoint[];
  synthetic: PipelinePhaseResult;
  jpeg: PipelinePhaseResult;
  process: { rssMb: number; rssAfterWarmupMb: number; rssAfterSyntheticMb: number; cpuPercent: number; eventLoopLagP99Ms: number };
}

const pct = (s: { p50: number; p99: number }): StagePercentiles => ({ p50: s.p50, p99: s.p99 });

function pipelineBlock(r: PipelinePhaseResult): PipelineBlock {
  return {
    fps: r.fps,
    p50Ms: r.perFrameMs.p50,
    p99Ms: r.perFrameMs.p99,
    latencyP50Ms: r.frameLatencyMs.p50,
    latencyP99Ms: r.frameLatencyMs.p99,
    detectorIdleMs: r.detectorIdleMs.mean,
  };
}

export function buildReport(p: ReportParts): BenchReport {
  const { raw, synthetic, jpeg } = p;
  const overheadMs = overheadOf(synthetic.perFrameMs.p50, raw.inferenceMs.p50);
  const report: Omit<BenchReport, 'targets'> = {
    model: p.model,
    backend: p.backend,
    threads: raw.threads,
    seconds: p.seconds,
    syntheticFormat: p.syntheticFormat,
    raw: {
      fps: raw.fps,
      p50Ms: raw.inferenceMs.p50,
      p99Ms: raw.inferenceMs.p99,
      roundTripFps: raw.roundTripFps,
      roundTripP50Ms: raw.roundTripMs.p50,
      roundTripP99Ms: raw.roundTripMs.p99,
      loadMs: raw.loadMs,
      ...(p.rawRuns ? { runsFps: p.rawRuns.map((r) => r.fps) } : {}),
    },
    pipeline: pipelineBlock(synthetic),
    jpeg: {
      ...pipelineBlock(jpeg),
      ratio: ratioOf(jpeg.fps, raw.fps),
      stagesMs: jpeg.stagesMs,
      endToEndMs: pct(jpeg.endToEndMs),
    },
    ratio: ratioOf(synthetic.fps, raw.fps),
    stagesMs: synthetic.stagesMs,
    endToEndMs: pct(synthetic.endToEndMs),
    overheadMs,
    overheadMeanMs: synthetic.fps > 0 && raw.fps > 0 ? round(1000 / synthetic.fps - 1000 / raw.fps) : 0,
    overheadSplitMs: splitOverhead(overheadMs, synthetic, raw),
    rssMb: round(p.process.rssMb, 1),
    // From the rounded figures, so that the two printed numbers and their difference agree.
    rssGrowthMb: round(round(p.process.rssMb, 1) - round(p.process.rssAfterWarmupMb, 1), 1),
    rssTrailMb: { afterWarmup: round(p.process.rssAfterWarmupMb, 1), afterSynthetic: round(p.process.rssAfterSyntheticMb, 1), end: round(p.process.rssMb, 1) },
    cpuPercent: p.process.cpuPercent,
    eventLoopLagP99Ms: p.process.eventLoopLagP99Ms,
    latencyAddedMs: {
      overInferenceStage: round(synthetic.endToEndMs.p50 - (synthetic.stagesMs.inference?.p50 ?? 0)),
      overRuntime: synthetic.runtimeMs.count > 0 ? round(synthetic.endToEndMs.p50 - synthetic.runtimeMs.p50) : 0,
    },
    frames: {
      raw: raw.inferenceMs.count,
      pipeline: synthetic.frames.processed,
      jpeg: jpeg.frames.processed,
      dropped: synthetic.frames.dropped,
      errors: synthetic.frames.errors + jpeg.frames.errors,
      received: synthetic.frames.received + jpeg.frames.received,
      otherBackend: synthetic.frames.otherBackend + jpeg.frames.otherBackend,
    },
  };
  const full: BenchReport = { ...report, ...(p.sweep ? { sweep: p.sweep } : {}), targets: targetsOf(report) };
  return full;
}

function target(name: string, value: number, kind: Target['kind'], limit: number, unit: string): Target {
  return { name, value, limit, kind, unit, met: kind === 'max' ? value <= limit : value >= limit };
}

/**
 * The targets on the synthetic run. Non-inference work is the per-frame overhead (pipeline time per frame minus the
 * raw runtime's, p50) as a share of the raw p50; end to end is compared with the pipeline's inference stage (frame
 * handed to the detector until its answer is back), the stage a frame spends in inference, queueing included.
 */
function targetsOf(r: Omit<BenchReport, 'targets'>): Target[] {
  return [
    target('ratio pipeline/raw', r.ratio, 'min', 0.95, ''),
    target('non-inference work per frame', r.raw.p50Ms > 0 ? round((100 * r.overheadMs) / r.raw.p50Ms, 1) : 0, 'max', 3, '% of inference'),
    target('event-loop lag p99', r.eventLoopLagP99Ms, 'max', 10, 'ms'),
    target('end to end p50 over inference p50', r.latencyAddedMs.overInferenceStage, 'max', 3, 'ms'),
    target('daemon RSS', r.rssMb, 'max', 150, 'MB'),
  ];
}

function splitOverhead(overheadMs: number, synthetic: PipelinePhaseResult, raw: RawResult): BenchReport['overheadSplitMs'] {
  const idle = synthetic.detectorIdleMs.mean;
  const slowdown = synthetic.runtimeMs.count > 0 ? round(synthetic.runtimeMs.p50 - raw.inferenceMs.p50) : 0;
  return { idle, slowdown, hop: round(overheadMs - idle - slowdown) };
}

/** Columns padded to their widest cell; the first column left-aligned, the others right-aligned. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

const f1 = (v: number): string => v.toFixed(1);
const f2 = (v: number): string => v.toFixed(2);
const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;

/** The human-readable report. */
export function formatTable(r: BenchReport): string {
  const out: string[] = [];
  out.push(`mobilenet-edge bench: ${r.model} on ${r.backend}, ${r.threads} thread${r.threads === 1 ? '' : 's'}, ${r.seconds} s`);
  out.push('');
  out.push(
    ...alignColumns([
      ['run (ms per frame)', 'fps', 'p50 ms', 'p99 ms', 'frames'],
      ['raw infer (host-side)', f1(r.raw.fps), f2(r.raw.p50Ms), f2(r.raw.p99Ms), String(r.frames.raw)],
      ['raw infer (round trip)', f1(r.raw.roundTripFps), f2(r.raw.roundTripP50Ms), f2(r.raw.roundTripP99Ms), String(r.frames.raw)],
      [`pipeline, synthetic 640x480 ${r.syntheticFormat === 'i420' ? 'I420' : 'RGB'}`, f1(r.pipeline.fps), f2(r.pipeline.p50Ms), f2(r.pipeline.p99Ms), String(r.frames.pipeline)],
      ['pipeline, JPEG files', f1(r.jpeg.fps), f2(r.jpeg.p50Ms), f2(r.jpeg.p99Ms), String(r.frames.jpeg)],
    ]),
  );
  out.push('');
  if (r.raw.runsFps) out.push(`raw runs (before / after the synthetic run): ${r.raw.runsFps.map(f1).join(' / ')} fps; the faster is the limit`);
  out.push(`ratio pipeline/raw: ${r.ratio.toFixed(3)} (JPEG ${r.jpeg.ratio.toFixed(3)})`);
  const s = r.overheadSplitMs;
  out.push(`overhead per frame: p50 ${f2(r.overheadMs)} ms (detector idle ${f2(s.idle)}, runtime slower beside the pipeline ${f2(s.slowdown)}, process hop and the rest ${f2(s.hop)}), mean ${f2(r.overheadMeanMs)} ms`);
  out.push(
    `frame latency (preprocess + inference + postprocess): p50 ${f2(r.pipeline.latencyP50Ms)} ms, p99 ${f2(r.pipeline.latencyP99Ms)} ms (JPEG ${f2(r.jpeg.latencyP50Ms)} / ${f2(r.jpeg.latencyP99Ms)})`,
  );
  out.push('');
  const stages = Object.keys(r.stagesMs);
  out.push(
    ...alignColumns([
      ['stage ms', 'synthetic p50', 'p99', 'JPEG p50', 'p99'],
      ...stages.map((st) => [st, f2(r.stagesMs[st]!.p50), f2(r.stagesMs[st]!.p99), f2(r.jpeg.stagesMs[st]?.p50 ?? 0), f2(r.jpeg.stagesMs[st]?.p99 ?? 0)]),
      ['end to end (to MQTT)', f2(r.endToEndMs.p50), f2(r.endToEndMs.p99), f2(r.jpeg.endToEndMs.p50), f2(r.jpeg.endToEndMs.p99)],
    ]),
  );
  out.push('');
  out.push(
    `daemon process: rss ${f1(r.rssMb)} MB (${signed(r.rssGrowthMb)} MB since warm-up: ${signed(r.rssTrailMb.afterSynthetic - r.rssTrailMb.afterWarmup)} synthetic, ${signed(r.rssTrailMb.end - r.rssTrailMb.afterSynthetic)} JPEG), cpu ${f1(r.cpuPercent)} %, event-loop lag p99 ${f2(r.eventLoopLagP99Ms)} ms`,
  );
  out.push(
    `end to end adds ${f2(r.latencyAddedMs.overInferenceStage)} ms to the inference stage (p50), ${f2(r.latencyAddedMs.overRuntime)} ms to the runtime's own infer() (p50)`,
  );
  const f = r.frames;
  out.push(`frames: ${f.dropped} dropped by the synthetic camera, ${f.errors} errors, ${f.received} detections received${f.otherBackend ? `, ${f.otherBackend} NOT on ${r.backend}` : ''}`);
  out.push('');
  out.push(
    ...alignColumns([
      ['target', 'this run', 'limit', ''],
      ...r.targets.map((t) => [t.name, `${t.value}${t.unit.startsWith('%') ? ' %' : ''}`, `${t.kind === 'max' ? '<=' : '>='} ${t.limit} ${t.unit}`.trimEnd(), t.met ? 'met' : 'NOT MET']),
    ]),
  );
  if (r.sweep) {
    out.push('');
    out.push(...alignColumns([['threads', 'raw fps'], ...r.sweep.map((p) => [`${p.threads}${p.threads === r.threads ? ' (best)' : ''}`, f1(p.fps)])]));
  }
  return out.join('\n') + '\n';
}
