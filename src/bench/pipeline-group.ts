import { performance } from 'node:perf_hooks';
import type { FrameSource } from '../camera/frame.js';
import type { Detector } from '../inference/detector.js';
import { CameraPipeline, type DetectionSink } from '../pipeline/camera-pipeline.js';
import type { Logger } from '../system/logger.js';
import type { DetectionsProbe, ReceivedDetection } from './detections-probe.js';
import { cpuMsOf, rssMbOf } from './proc-stat.js';
import { SampleSet, type Summary } from './stats.js';
import { TimedDetector } from './timed-detector.js';
import { benchPipelineOptions } from './pipeline-options.js';

/** A bench camera: its source, and the precise capture time of a frame by seq when the source keeps it. */
export interface BenchCamera {
  name: string;
  source: FrameSource & { pause?(): void; resume?(): void };
  capturedAt?(seq: number): number | undefined;
  /** Time the source has spent making frames so far (ms), when it knows (the synthetic camera's copy). */
  captureMs?(): number;
}

export interface PipelineGroupOptions {
  cameras: BenchCamera[];
  detector: Detector;
  sink: DetectionSink;
  probe: DetectionsProbe;
  log: Logger;
  /** The inference host processes the pipelines' detector runs in (their CPU is the pipeline's too). */
  hostPids(): number[];
}

/** One measured window of the running pipelines. */
export interface WindowResult {
  elapsedMs: number;
  /** Frames each camera published in the window, in camera order. */
  processed: number[];
  /** Intervals between consecutive detector answers in the window (the pipeline's time per frame, all cameras). */
  periodMs: readonly number[];
  /** The runtime's own time (host-side invoke, wall clock) of each frame answered in the window. */
  runtimeMs: readonly number[];
  /** The runtime's CPU time over the window's answers, when every one of them carried it. */
  runtimeCpuMs?: number;
  /** CPU time of this process (the daemon side) and of the inference hosts over the window. */
  daemonCpuMs: number;
  hostCpuMs: number | undefined;
  /** Time inside the window spent in these parts of the daemon's work, summed over the frames (ms). */
  partsMs: { capture: number; handOver: number; publish: number };
}

/** Per-stage times and end to end of the frames captured while measuring, from the messages the broker delivered. */
export interface MessageFigures {
  stagesMs: Record<string, Summary>;
  endToEndMs: Summary;
  /** preprocess + inference + postprocess of each frame. */
  frameLatencyMs: Summary;
  received: number;
  otherBackend: number;
}

const STAGES = ['capture', 'preprocess', 'inference', 'postprocess', 'total'] as const;

/**
 * Bench cameras, each through a real CameraPipeline, sharing one detector and the real publisher. They can be paused
 * (nothing in flight, the sources' timers stopped) while the raw runtime is measured alone, and measured in windows.
 * Only frames captured inside a window count toward the message figures.
 */
export class PipelineGroup {
  readonly timed: TimedDetector;
  private readonly pipelines: CameraPipeline[];
  private readonly windows: { from: number; to: number }[] = [];
  private readonly stageSamples = Object.fromEntries(STAGES.map((s) => [s, new SampleSet()])) as Record<(typeof STAGES)[number], SampleSet>;
  private readonly e2e = new SampleSet();
  private readonly frameLatency = new SampleSet();
  private received = 0;
  private otherBackend = 0;
  private paused = false;
  private publishMs = 0;
  /** Largest inference host RSS seen at a window's end. */
  hostRssMaxMb = 0;

  constructor(
    private readonly opts: PipelineGroupOptions,
    private readonly expectBackend: string,
    wrap: (d: Detector) => Detector = (d) => d,
  ) {
    this.timed = new TimedDetector(opts.detector);
    // The publisher, timed: what sending a result costs the daemon (outbox, MQTT), beside what it costs to make it.
    const sink = opts.sink;
    const timedSink: DetectionSink = {
      topic: (...parts) => sink.topic(...parts),
      publish: (topic, payload, o) => {
        const started = performance.now();
        sink.publish(topic, payload, o);
        this.publishMs += performance.now() - started;
      },
    };
    // A stall (the self-test) sits between the pipeline and the timing: the detector waits for it, as for a slow pipeline.
    const detector = wrap(this.timed);
    this.pipelines = opts.cameras.map(
      (cam) =>
        new CameraPipeline(
          benchPipelineOptions(cam.name, { qos: 1, retain: false, offline: 'queue' }),
          cam.source,
          detector,
          timedSink,
          opts.log.child({ camera: cam.name }),
        ),
    );
    for (const s of [...Object.values(this.stageSamples), this.e2e, this.frameLatency]) s.begin();
    opts.probe.onDetection((d) => this.onDetection(d));
  }

  async start(): Promise<void> {
    for (const p of this.pipelines) await p.start();
  }

  /** Nothing new taken, the frames in flight answered (and set aside), the sources' timers stopped. */
  async pause(): Promise<void> {
    this.paused = true;
    for (const p of this.pipelines) p.setDetecting(false);
    for (const c of this.opts.cameras) c.source.pause?.();
    await this.timed.idle();
    this.timed.forgetLastAnswer();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const c of this.opts.cameras) c.source.resume?.();
    for (const p of this.pipelines) p.setDetecting(true);
  }

  /** Starts a measured window; its `end()` gives the window's figures. */
  window(): { end(): WindowResult } {
    const processedBefore = this.pipelines.map((p) => p.counters().processed);
    const periodFrom = this.timed.periodMs.count;
    const runtimeFrom = this.timed.runtimeMs.count;
    const invokeCpuFrom = { ms: this.timed.invokeCpuMs, answers: this.timed.invokeCpuAnswers };
    const hosts = this.opts.hostPids();
    const hostCpu = (): number | undefined => sumDefined(hosts.map(cpuMsOf));
    const hostBefore = hostCpu();
    const partsBefore = this.parts();
    const cpuBefore = process.cpuUsage();
    this.timed.begin(this.windows.length === 0);
    const win = { from: performance.now(), to: Infinity };
    this.windows.push(win);
    return {
      end: (): WindowResult => {
        win.to = performance.now();
        this.timed.end();
        const cpu = process.cpuUsage(cpuBefore);
        const partsAfter = this.parts();
        const hostAfter = hostCpu();
        for (const pid of hosts) this.hostRssMaxMb = Math.max(this.hostRssMaxMb, rssMbOf(pid) ?? 0);
        return {
          elapsedMs: win.to - win.from,
          processed: this.pipelines.map((p, i) => p.counters().processed - processedBefore[i]!),
          periodMs: this.timed.periodMs.since(periodFrom),
          runtimeMs: this.timed.runtimeMs.since(runtimeFrom),
          ...(this.timed.invokeCpuAnswers - invokeCpuFrom.answers === this.timed.runtimeMs.count - runtimeFrom
            ? { runtimeCpuMs: this.timed.invokeCpuMs - invokeCpuFrom.ms }
            : {}),
          daemonCpuMs: (cpu.user + cpu.system) / 1000,
          hostCpuMs: hostBefore !== undefined && hostAfter !== undefined ? hostAfter - hostBefore : undefined,
          partsMs: {
            capture: partsAfter.capture - partsBefore.capture,
            handOver: partsAfter.handOver - partsBefore.handOver,
            publish: partsAfter.publish - partsBefore.publish,
          },
        };
      },
    };
  }

  /** The timed parts of the daemon's work so far (ms, cumulative). */
  private parts(): { capture: number; handOver: number; publish: number } {
    return {
      capture: this.opts.cameras.reduce((sum, c) => sum + (c.captureMs?.() ?? 0), 0),
      handOver: this.timed.handOverMs,
      publish: this.publishMs,
    };
  }

  /** Stops every pipeline (each lets its frame in flight finish). */
  async stop(): Promise<void> {
    for (const p of this.pipelines) await p.stop().catch(() => undefined);
  }

  /** Detector answers still in flight have been waited for by stop(); messages still travelling get `drainMs`. */
  async messageFigures(drainMs: number): Promise<MessageFigures> {
    await new Promise((r) => setTimeout(r, drainMs));
    await this.opts.probe.flush();
    this.opts.probe.onDetection(undefined);
    return {
      stagesMs: Object.fromEntries(STAGES.map((s) => [s, this.stageSamples[s].summary()])),
      endToEndMs: this.e2e.summary(),
      frameLatencyMs: this.frameLatency.summary(),
      received: this.received,
      otherBackend: this.otherBackend,
    };
  }

  /** Counters summed over the cameras. */
  totals(): { captured: number; processed: number; dropped: number; errors: number } {
    const t = { captured: 0, processed: 0, dropped: 0, errors: 0 };
    for (const p of this.pipelines) {
      const c = p.counters();
      t.captured += c.captured;
      t.processed += c.processed;
      t.dropped += c.dropped;
      t.errors += c.errors;
    }
    return t;
  }

  private onDetection(d: ReceivedDetection): void {
    const cam = this.opts.cameras.find((c) => c.name === d.camera);
    if (!cam) return;
    const precise = cam.capturedAt?.(d.seq);
    const capturedAt = precise ?? d.capturedWall - performance.timeOrigin;
    if (!this.windows.some((w) => capturedAt >= w.from && capturedAt <= w.to)) return;
    this.received++;
    if (this.expectBackend && d.backend && d.backend !== this.expectBackend) this.otherBackend++;
    this.e2e.add(precise !== undefined ? d.receivedAt - precise : d.receivedWall - d.capturedWall);
    for (const s of STAGES) {
      const v = d.latencyMs[s];
      if (typeof v === 'number') this.stageSamples[s].add(v);
    }
    const { preprocess, inference, postprocess } = d.latencyMs;
    if (typeof preprocess === 'number' && typeof inference === 'number' && typeof postprocess === 'number') this.frameLatency.add(preprocess + inference + postprocess);
  }
}

function sumDefined(values: (number | undefined)[]): number | undefined {
  let sum = 0;
  for (const v of values) {
    if (v === undefined) return undefined;
    sum += v;
  }
  return sum;
}

/** Mean of a window's detector periods as a rate (frames a second); 0 without any. */
export function fpsOfPeriods(periods: readonly number[]): number {
  let sum = 0;
  for (const p of periods) sum += p;
  return sum > 0 ? (1000 * periods.length) / sum : 0;
}
