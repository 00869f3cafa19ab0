import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CameraCounters } from '../stats/camera-stats.js';
import type { MotionCounters } from '../stats/motion-stats.js';
import type { StatsPayload } from '../stats/stats-reporter.js';

export const METRIC_PREFIX = 'mobilenet_edge_';

/**
 * Edge TPU runs take a few ms, CPU runs tens to hundreds (a Pi 4's CPU: 120-350 ms for the Coral models), so the
 * buckets run from 1 ms to 2 s and are dense from 100 to 500 ms, where a Pi's CPU latency moves.
 */
/** Crops per frame: 0 (the frame's objects all over maxCrops is impossible; kept for symmetry) to a crowded frame. */
const CROPS_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16];

const INFERENCE_BUCKETS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1, 2];

/**
 * prom-client's default metrics include three gauges named `_total` (counts of what is active now, not counters):
 * `promtool check metrics` rejects them, and `nodejs_active_{handles,requests,resources}` (by type) hold the same.
 */
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** Every backend the detector reports, so that each has a series (0 or 1) and an alert on one needs no `absent()`. */
const BACKENDS = ['edgetpu', 'cpu', 'none'] as const;

/** What this daemon runs: the labels of `mobilenet_edge_build_info`. */
export interface BuildInfo {
  version: string;
  nodejsVersion: string;
  /** The model file preferred: the Edge TPU build when one is configured, else the CPU model. */
  model: string;
  /** The CPU model ("" when none): the fallback of an Edge TPU setup. */
  cpuModel: string;
  /** detector.backend as configured: auto, edgetpu or cpu. */
  backendSetting: string;
}

/** Live readings taken at each scrape, so counters are current rather than as old as the last stats interval. */
export interface LiveMetrics {
  /** Cumulative frame counters per camera. */
  cameraTotals(): Record<string, CameraCounters>;
  /** The backend inference runs on now. */
  backend(): string;
}

type CameraCounterKey = keyof CameraCounters;

/**
 * The daemon's Prometheus metrics, in a registry of its own (never prom-client's global one, so two daemons in one
 * test process do not collide). Inference latency is observed per run. Camera counters and the backend are read at
 * each scrape when live readings are given, else taken from each stats interval; the other counters come from the
 * stats interval. Sources keep cumulative totals, so counters advance by the difference since the last reading.
 */
export class MetricsRecorder {
  readonly registry = new Registry();
  private readonly inference: Histogram<'backend'>;
  private readonly fpsProcessed: Gauge<'camera'>;
  private readonly fpsCaptured: Gauge<'camera'>;
  private readonly cameraCounters: Record<CameraCounterKey, Counter<'camera'>>;
  private readonly motionCounters: Record<keyof MotionCounters, Counter<'camera'>>;
  private readonly motionSeconds: Gauge<'camera'>;
  private readonly inferenceErrors: Counter;
  private readonly failovers: Counter;
  private readonly recoveries: Counter;
  private readonly mqttDropped: Counter;
  private readonly mqttPublished: Counter;
  private readonly outboxDepth: Gauge;
  private readonly mqttConnected: Gauge;
  private readonly backend: Gauge<'backend'>;
  private readonly cropSeconds: Histogram<'classifier'>;
  private readonly cropsPerFrame: Histogram<'classifier'>;
  private readonly cropErrors: Counter<'classifier'>;
  private readonly cropsSkipped: Counter<'classifier'>;
  private readonly live: LiveMetrics | undefined;
  /** Last cumulative value seen per counter and label set, to turn totals into increments. */
  private readonly seen = new Map<string, number>();

  constructor(opts: { defaultMetrics?: boolean; build?: BuildInfo; live?: LiveMetrics } = {}) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    this.live = opts.live;
    this.inference = new Histogram({
      name: `${p}inference_seconds`,
      help: 'Inference time of one frame, per backend (edgetpu or cpu)',
      labelNames: ['backend'],
      buckets: INFERENCE_BUCKETS,
      registers,
    });
    this.fpsProcessed = new Gauge({ name: `${p}camera_processed_fps`, help: 'Frames per second run through the detector, per camera, over the last stats interval', labelNames: ['camera'], registers });
    this.fpsCaptured = new Gauge({ name: `${p}camera_captured_fps`, help: 'Frames per second delivered by the camera, over the last stats interval', labelNames: ['camera'], registers });
    const cameraCounter = (what: string, help: string): Counter<'camera'> =>
      new Counter({ name: `${p}camera_${what}_total`, help, labelNames: ['camera'], registers });
    this.motionCounters = {
      frames: cameraCounter('motion_checked_frames', 'Frames the motion detector looked at (motion gating on)'),
      framesWithMotion: cameraCounter('motion_frames', 'Frames in which something moved'),
      detectorRuns: cameraCounter('detector_runs', 'Frames the detector ran on under motion gating (whole frame or regions)'),
      inferences: cameraCounter('region_inferences', 'Inferences those runs cost: one per region, one per whole frame'),
      skipped: cameraCounter('still_frames', 'Frames not detected because nothing moved and nothing was due'),
    };
    this.motionSeconds = new Gauge({ name: `${p}camera_motion_seconds`, help: 'Median time of the motion detector per frame, over the last stats interval', labelNames: ['camera'], registers });
    this.cameraCounters = {
      captured: cameraCounter('captured_frames', 'Frames delivered by the camera'),
      processed: cameraCounter('processed_frames', 'Frames run through the detector and published'),
      dropped: cameraCounter('dropped_frames', 'Frames replaced in the latest-frame slot before inference took them'),
      skipped: cameraCounter('skipped_frames', 'Frames the source could not decode'),
      errors: cameraCounter('errors', 'Frames whose preprocessing or inference failed'),
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
    this.backend = new Gauge({ name: `${p}backend`, help: '1 for the backend inference runs on now (edgetpu, cpu, or none while no detector answers), 0 for the others', labelNames: ['backend'], registers });
    this.cropSeconds = new Histogram({
      name: `${p}classifier_crop_seconds`,
      help: 'Second-stage classifier time per crop (crop, resize, inference and the trip to the inference host), per classifier',
      labelNames: ['classifier'],
      buckets: INFERENCE_BUCKETS,
      registers,
    });
    this.cropsPerFrame = new Histogram({
      name: `${p}classifier_crops_per_frame`,
      help: 'Crops classified per frame that had detections for the classifier, per classifier',
      labelNames: ['classifier'],
      buckets: CROPS_BUCKETS,
      registers,
    });
    this.cropErrors = new Counter({ name: `${p}classifier_crop_errors_total`, help: 'Crops whose classification failed (the detection was published without a sub-label)', labelNames: ['classifier'], registers });
    this.cropsSkipped = new Counter({ name: `${p}classifier_skipped_crops_total`, help: 'Detections left unclassified because their frame had more than maxCrops of them', labelNames: ['classifier'], registers });
    if (opts.build) {
      const b = opts.build;
      const labels = { version: b.version, nodejs_version: b.nodejsVersion, model: b.model, cpu_model: b.cpuModel, backend_setting: b.backendSetting };
      new Gauge({ name: `${p}build_info`, help: 'Always 1; the labels say which version, Node.js and models run', labelNames: Object.keys(labels), registers }).set(labels, 1);
    }
    if (opts.defaultMetrics !== false) {
      // Unprefixed, as exporters name them (process_cpu_seconds_total, process_resident_memory_bytes, ...): the
      // dashboards and alerts people already have look for these names.
      collectDefaultMetrics({ register: this.registry });
      for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name);
    }
  }

  observeInference(ms: number, backend: string): void {
    this.inference.observe({ backend }, ms / 1000);
  }

  /** A crop classified (ClassifierMeter). */
  recordCrop(classifier: string, ms: number): void {
    this.cropSeconds.observe({ classifier }, ms / 1000);
  }

  recordCropError(classifier: string): void {
    this.cropErrors.inc({ classifier });
  }

  recordFrame(classifier: string, crops: number, skipped: number): void {
    this.cropsPerFrame.observe({ classifier }, crops);
    this.cropsSkipped.inc({ classifier }, skipped);
  }

  /** Every classifier has its series from the start (an alert on one needs no `absent()`). */
  declareClassifiers(names: string[]): void {
    for (const classifier of names) {
      this.cropSeconds.zero({ classifier });
      this.cropsPerFrame.zero({ classifier });
      this.cropErrors.inc({ classifier }, 0);
      this.cropsSkipped.inc({ classifier }, 0);
    }
  }

  update(stats: StatsPayload): void {
    for (const [camera, c] of Object.entries(stats.cameras)) {
      this.fpsProcessed.set({ camera }, c.fps.processed);
      this.fpsCaptured.set({ camera }, c.fps.captured);
      if (!this.live) this.advanceCamera(camera, c.totals);
      if (c.motion) {
        for (const [key, counter] of Object.entries(this.motionCounters)) {
          this.advance(counter, `motion:${key}:${camera}`, c.motion.totals[key as keyof MotionCounters], { camera });
        }
        if (c.motion.motionMs.count > 0) this.motionSeconds.set({ camera }, c.motion.motionMs.p50 / 1000);
      }
    }
    if (!this.live) this.setBackend(stats.backend);
    this.advance(this.inferenceErrors, 'inference_errors', stats.detector.errors);
    this.advance(this.failovers, 'failovers', stats.detector.failovers);
    this.advance(this.recoveries, 'recoveries', stats.detector.recoveries);
    this.advance(this.mqttDropped, 'mqtt_dropped', stats.mqtt.droppedOffline);
    this.advance(this.mqttPublished, 'mqtt_published', stats.mqtt.published);
    this.outboxDepth.set(stats.mqtt.queued);
    this.mqttConnected.set(stats.mqtt.connected ? 1 : 0);
  }

  /** Prometheus text exposition of every metric, live readings taken now. */
  text(): Promise<string> {
    if (this.live) {
      for (const [camera, totals] of Object.entries(this.live.cameraTotals())) this.advanceCamera(camera, totals);
      this.setBackend(this.live.backend());
    }
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private setBackend(active: string): void {
    for (const b of new Set<string>([...BACKENDS, active])) this.backend.set({ backend: b }, b === active ? 1 : 0);
  }

  private advanceCamera(camera: string, totals: CameraCounters): void {
    for (const [key, counter] of Object.entries(this.cameraCounters)) {
      this.advance(counter, `camera:${key}:${camera}`, totals[key as CameraCounterKey], { camera });
    }
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
