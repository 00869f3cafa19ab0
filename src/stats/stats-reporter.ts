import { ProcessStats, type ProcessSample } from './process-stats.js';
import type { CameraStatsSnapshot } from './camera-stats.js';
import { LatencyWindow, type LatencySummary } from './latency-window.js';
import type { PublisherCounters } from '../publish/mqtt-publisher.js';
import type { ClassifierStatsSnapshot } from './classifier-stats.js';

/** One second-stage classifier in the stats: its state (as on the detector topic) and its interval's figures. */
export interface ClassifierStatsEntry extends ClassifierStatsSnapshot {
  state: string;
  backend: string;
  reason: string;
}

export interface StatsPayload {
  v: 1;
  ts: string;
  device: string;
  uptimeSec: number;
  intervalSec: number;
  backend: string;
  model: string;
  process: ProcessSample;
  detector: {
    backend: string;
    model: string;
    inferences: number;
    errors: number;
    failovers: number;
    recoveries: number;
    /** Runtime inference time over the interval, all backends together. */
    inferenceMs: LatencySummary;
    /** The same per backend: Edge TPU and CPU latencies are never mixed. */
    byBackend: Partial<Record<'cpu' | 'edgetpu', LatencySummary>>;
  };
  cameras: Record<string, CameraStatsSnapshot>;
  /** Second-stage classifiers by name (present when any is configured). */
  classifiers?: Record<string, ClassifierStatsEntry>;
  mqtt: PublisherCounters;
}

export interface StatsInputs {
  device: string;
  backend(): string;
  model(): string;
  cameras(): Record<string, { snapshot(intervalSec: number): CameraStatsSnapshot }>;
  failovers(): { failovers: number; recoveries: number };
  mqtt(): PublisherCounters;
  classifiers?(): Record<string, ClassifierStatsEntry>;
}

/** Gathers one stats interval: per camera, the detector, the MQTT link and the process itself. */
export class StatsReporter {
  private readonly process = new ProcessStats();
  private readonly inference = new LatencyWindow();
  private readonly byBackend = { cpu: new LatencyWindow(), edgetpu: new LatencyWindow() };
  private inferences = 0;
  private inferenceErrors = 0;
  private readonly startedAt = Date.now();
  private lastAt = Date.now();

  constructor(private readonly inputs: StatsInputs) {}

  /** Pure inference time as the host measured it, without the process hop. */
  recordInference(ms: number, backend: 'cpu' | 'edgetpu'): void {
    this.inferences++;
    this.inference.add(ms);
    this.byBackend[backend].add(ms);
  }

  recordInferenceError(): void {
    this.inferenceErrors++;
  }

  collect(): StatsPayload {
    const now = Date.now();
    const intervalSec = Math.max(0.001, (now - this.lastAt) / 1000);
    this.lastAt = now;
    const cameras = Object.fromEntries(Object.entries(this.inputs.cameras()).map(([name, c]) => [name, c.snapshot(intervalSec)]));
    const payload: StatsPayload = {
      v: 1,
      ts: new Date(now).toISOString(),
      device: this.inputs.device,
      uptimeSec: Math.round((now - this.startedAt) / 1000),
      intervalSec: Math.round(intervalSec * 10) / 10,
      backend: this.inputs.backend(),
      model: this.inputs.model(),
      process: this.process.sample(),
      detector: {
        backend: this.inputs.backend(),
        model: this.inputs.model(),
        inferences: this.inferences,
        errors: this.inferenceErrors,
        ...this.inputs.failovers(),
        inferenceMs: this.inference.summary(),
        byBackend: Object.fromEntries(
          Object.entries(this.byBackend)
            .filter(([, w]) => w.count > 0)
            .map(([b, w]) => [b, w.summary()]),
        ),
      },
      cameras,
      ...(this.inputs.classifiers ? { classifiers: this.inputs.classifiers() } : {}),
      mqtt: this.inputs.mqtt(),
    };
    this.inference.reset();
    this.byBackend.cpu.reset();
    this.byBackend.edgetpu.reset();
    return payload;
  }

  stop(): void {
    this.process.stop();
  }
}
