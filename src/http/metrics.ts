import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StatsPayload } from '../stats/stats-reporter.js';

export const METRIC_PREFIX = 'mobilenet_edge_';

/** Edge TPU runs take a few ms, CPU runs tens to hundreds: buckets from 1 ms to 2 s cover both. */
const INFERENCE_BUCKETS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2];

/**
 * The daemon's Prometheus metrics, in a registry of its own (never prom-client's global one, so two daemons in one
 * test process do not collide). Inference latency is observed per run; everything else is taken from each stats
 * interval, whose totals are cumulative, so counters advance by the difference since the previous interval.
 */
export class MetricsRecorder {
  readonly registry = new Registry();
  private readonly inference: Histogram<'backend'>;
  private readonly fpsProcessed: Gauge<'camera'>;
  private readonly fpsCaptured: Gauge<'camera'>;
  private readonly cameraCounters: Record<'dropped' | 'errors' | 'skipped' | 'restarts' | 'stalls', Counter<'camera'>>;
  private readonly inferenceErrors: Counter;
  private readonly failovers: Counter;
  private readonly recoveries: Counter;
  private readonly mqttDropped: Counter;
  private readonly mqttPublished: Counter;
  private readonly outboxDepth: Gauge;
  private readonly mqttConnected: Gauge;
  /** Last cumulative value seen per counter and label set, to turn totals into increments. */
  private readonly seen = new Map<string, number>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    this.inference = new Histogram({
      name: `${p}inference_seconds`,
      help: 'Inference time of one frame, per backend (edgetpu or cpu)',
      labelNames: ['backend'],
      buckets: INFERENCE_BUCKETS,
      registers,
    });
    this.fpsProcessed = new Gauge({ name: `${p}camera_processed_fps`, help: 'Frames per second run through the detector, per camera', labelNames: ['camera'], registers });
    this.fpsCaptured = new Gauge({ name: `${p}camera_captured_fps`, help: 'Frames per second delivered by the camera', labelNames: ['camera'], registers });
    const cameraCounter = (what: string, help: string): Counter<'camera'> =>
      new Counter({ name: `${p}camera_${what}_total`, help, labelNames: ['camera'], registers });
    this.cameraCounters = {
      dropped: cameraCounter('dropped_frames', 'Frames replaced in the latest-frame slot before inference took them'),
      errors: cameraCounter('errors', 'Frames whose preprocessing or inference failed'),
      skipped: cameraCounter('skipped_frames', 'Frames the source could not decode'),
      restarts: cameraCounter('restarts', 'Times the camera process was restarted'),
      stalls: cameraCounter('stalls', 'Times the camera went silent and was restarted by the stall watchdog'),
    };
    this.inferenceErrors = new Counter({ name: `${p}inference_errors_total`, help: 'Inference runs that failed', registers });
    this.failovers = new Counter({ name: `${p}detector_failovers_total`, help: 'Switches from the Edge TPU to the CPU', registers });
    this.recoveries = new Counter({ name: `${p}detector_recoveries_total`, help: 'Switches back from the CPU to the Edge TPU', registers });
    this.mqttDropped = new Counter({ name: `${p}mqtt_dropped_offline_total`, help: 'Messages dropped because the outbox was full', registers });
    this.mqttPublished = new Counter({ name: `${p}mqtt_published_total`, help: 'Messages published to the broker', registers });
    this.outboxDepth = new Gauge({ name: `${p}mqtt_outbox_depth`, help: 'Messages waiting in the outbox for the broker', registers });
    this.mqttConnected = new Gauge({ name: `${p}mqtt_connected`, help: '1 while connected to the MQTT broker, else 0', registers });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  observeInference(ms: number, backend: string): void {
    this.inference.observe({ backend }, ms / 1000);
  }

  update(stats: StatsPayload): void {
    for (const [camera, c] of Object.entries(stats.cameras)) {
      this.fpsProcessed.set({ camera }, c.fps.processed);
      this.fpsCaptured.set({ camera }, c.fps.captured);
      for (const [key, counter] of Object.entries(this.cameraCounters)) {
        this.advance(counter, `camera:${key}:${camera}`, c.totals[key as keyof typeof this.cameraCounters], { camera });
      }
    }
    this.advance(this.inferenceErrors, 'inference_errors', stats.detector.errors);
    this.advance(this.failovers, 'failovers', stats.detector.failovers);
    this.advance(this.recoveries, 'recoveries', stats.detector.recoveries);
    this.advance(this.mqttDropped, 'mqtt_dropped', stats.mqtt.droppedOffline);
    this.advance(this.mqttPublished, 'mqtt_published', stats.mqtt.published);
    this.outboxDepth.set(stats.mqtt.queued);
    this.mqttConnected.set(stats.mqtt.connected ? 1 : 0);
  }

  /** Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private advance<L extends string>(counter: Counter<L>, key: string, total: number, labels?: Partial<Record<L, string>>): void {
    const last = this.seen.get(key) ?? 0;
    // A total below the last one means its source started over (a camera re-created on reload): count from zero.
    const delta = total >= last ? total - last : total;
    this.seen.set(key, total);
    // Incremented even by 0, so a camera's series exist from its first interval on.
    if (labels) counter.inc(labels, delta);
    else counter.inc(delta);
  }
}
