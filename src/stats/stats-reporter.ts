import { ProcessStats, type ProcessSample } from './process-stats.js';
import type { CameraStatsSnapshot } from './camera-stats.js';
import { LatencyWindow, type LatencySummary } from './latency-window.js';
import type { PublisherCounters } from '../publish/mqtt-publisher.js';

export interface StatsPayload {
  v: 1;
  ts: string;
  device: string;
  uptimeSec: number;
  intervalSec: number;
  backend: string;
  model: string;
  process: ProcessSample;
  detector: { backend: string; model: string; inferences: number; errors: number; inferenceMs: LatencySummary };
  cameras: Record<string, CameraStatsSnapshot>;
  mqtt: PublisherCounters;
}

export interface StatsInputs {
  device: string;
  backend(): string;
  model(): string;
  cameras(): Record<string, { snapshot(intervalSec: number): CameraStatsSnapshot }>;
  mqtt(): PublisherCounters;
}

/** Gathers one stats interval: per camera, the detector, the MQTT link and the process itself. */
export class StatsReporter {
  private readonly process = new ProcessStats();
  private readonly inference = new LatencyWindow();
  private inferences = 0;
  private inferenceErrors = 0;
  private readonly startedAt = Date.now();
  private lastAt = Date.now();

  constructor(private readonly inputs: StatsInputs) {}

  /** Pure inference time as the host measured it, without the process hop. */
  recordInference(ms: number): void {
    this.inferences++;
    this.inference.add(ms);
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
        inferenceMs: this.inference.summary(),
      },
      cameras,
      mqtt: this.inputs.mqtt(),
    };
    this.inference.reset();
    return payload;
  }

  stop(): void {
    this.process.stop();
  }
}
