import type { CameraProgress } from './system/pipeline-watch.js';
import type { AppConfig } from './config/index.js';
import { diffConfig, type ConfigChanges } from './config/reload.js';
import { createSource } from './camera/create-source.js';
import { createDetector } from './inference/create-detector.js';
import type { DetectorState } from './inference/failover-detector.js';
import type { Detector } from './inference/detector.js';
import { MeteredDetector } from './inference/metered-detector.js';
import { CameraPipeline } from './pipeline/camera-pipeline.js';
import { MqttPublisher } from './publish/mqtt-publisher.js';
import { Outbox, outboxOptions } from './publish/outbox.js';
import { join } from 'node:path';
import { StatsReporter } from './stats/stats-reporter.js';
import type { Logger } from './system/logger.js';
import { trackIdSequence } from './events/index.js';
import { publishDiscovery } from './homeassistant/ha-publisher.js';
import { buildInfo } from './http/build-info.js';
import { DaemonHealth } from './http/daemon-health.js';
import { HttpServer } from './http/server.js';
import { CameraEvents } from './pipeline/camera-events.js';
import { SnapshotStore } from './snapshots/store.js';
import { packageRoot } from './system/paths.js';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CameraControl } from './pipeline/camera-control.js';
import { DetectStateStore } from './pipeline/detect-state-store.js';
import { liveConfigurationUrl } from './homeassistant/configuration-url.js';
import { ClassifierSet } from './inference/classify/classifier-set.js';
import { ClassifyStage } from './pipeline/classify-stage.js';
import { ClassifierStats } from './stats/classifier-stats.js';

/**
 * Owns start and stop order: detector first (nothing runs without a model), then MQTT (never waited for: a missing
 * broker is not fatal), then cameras; stop goes the other way so the frame in flight is finished and published.
 */
export class Daemon {
  private detector: Detector | undefined;
  private publisher: MqttPublisher | undefined;
  private outbox: Outbox | undefined;
  private stats: StatsReporter | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private readonly pipelines = new Map<string, CameraPipeline>();
  private detectorState: DetectorState | undefined;
  private health: DaemonHealth | undefined;
  private http: HttpServer | undefined;
  private classifiers: ClassifierSet | undefined;

  constructor(
    private config: AppConfig,
    private readonly log: Logger,
  ) {}

  /**
   * Starts everything in order. An aborted `signal` (a stop signal while starting) stops it between steps and kills
   * what is being loaded or measured; stop() then cleans up what did start.
   */
  async start(signal?: AbortSignal): Promise<void> {
    const { config, log } = this;
    const check = (): void => signal?.throwIfAborted();
    const baseTopic = `${config.mqtt.topicPrefix}/${config.device.id}`;
    const { outbox: box } = config.mqtt;
    const outbox = await Outbox.open(
      outboxOptions(outboxDir(box.dir), box),
      log.child({ module: 'outbox' }),
    );
    this.outbox = outbox;
    check();
    const publisher = new MqttPublisher(
      {
        url: config.mqtt.url,
        clientId: config.mqtt.clientId || `mobilenet-edge-${config.device.id}`,
        username: config.mqtt.username,
        password: config.mqtt.password,
        keepaliveSec: config.mqtt.keepaliveSec,
        persistentSession: config.mqtt.persistentSession,
        mqtt5: config.mqtt.detectionExpirySec > 0,
        baseTopic,
        outbox,
        tls: config.mqtt.tls,
      },
      log.child({ module: 'mqtt' }),
    );
    this.publisher = publisher;

    // Second-stage classifiers: their state rides on the detector topic, so that a failed load is said where the
    // detector's own state is.
    const classifiers = new ClassifierSet(config.classifiers, config.detector, log.child({ module: 'classifier' }), () => publishDetectorState());
    this.classifiers = classifiers;
    const classifierStats = new ClassifierStats({
      recordCrop: (name, ms) => this.health?.metrics.recordCrop(name, ms),
      recordCropError: (name) => this.health?.metrics.recordCropError(name),
      recordFrame: (name, crops, skipped) => this.health?.metrics.recordFrame(name, crops, skipped),
    });

    const stats = new StatsReporter({
      device: config.device.id,
      backend: () => this.detectorState?.backend ?? this.detector?.backend ?? 'none',
      model: () => this.detector?.model.name ?? 'none',
      cameras: () => Object.fromEntries(this.pipelines),
      mqtt: () => publisher.snapshot(),
      failovers: () => ({ failovers: this.detectorState?.failovers ?? 0, recoveries: this.detectorState?.recoveries ?? 0 }),
      ...(classifiers.size > 0 ? { classifiers: () => classifierStatsEntries(classifiers, classifierStats) } : {}),
    });
    this.stats = stats;

    const detectorTopic = publisher.topic('detector');
    const publishDetectorState = (): void => {
      if (!this.detectorState) return;
      const state = classifiers.size > 0 ? { ...this.detectorState, classifiers: classifiers.states() } : this.detectorState;
      publisher.publish(detectorTopic, JSON.stringify(state), { qos: 1, retain: true, offline: 'latest' });
    };
    publisher.onConnect(publishDetectorState);
    const inner = await createDetector(config.detector, log.child({ module: 'detector' }), {
      onState: (state) => {
        const previous = this.detectorState?.backend;
        this.detectorState = state;
        if (previous && previous !== state.backend) log.warn({ from: previous, to: state.backend, reason: state.reason }, 'detector backend changed');
        publishDetectorState();
      },
      threadsCache: threadsCacheFile(),
      ...(signal ? { signal } : {}),
    });
    check();
    if (config.http.enabled) {
      this.health = new DaemonHealth(
        () => this.pipelines,
        () => this.detector !== undefined && this.detectorState?.backend !== 'none',
        (camera) => config.cameras[camera]?.detect.fps ?? 0,
        () => publisher.snapshot(),
        { build: buildInfo(config.detector), backend: () => this.detectorState?.backend ?? this.detector?.backend ?? 'none' },
      );
    }
    const metrics = this.health?.metrics;
    const detector = new MeteredDetector(inner, {
      recordInference: (ms, backend) => {
        stats.recordInference(ms, backend);
        metrics?.observeInference(ms, backend);
      },
      recordInferenceError: () => stats.recordInferenceError(),
    });
    this.detector = detector; // before start(), so that an abort or stop() can kill a model load in progress
    const killLoad = (): void => void detector.stop().catch(() => undefined);
    signal?.addEventListener('abort', killLoad, { once: true });
    try {
      await detector.start();
    } finally {
      signal?.removeEventListener('abort', killLoad);
    }
    check();
    // In the background: detection does not wait for the classifiers, and a failed one is reported, not fatal.
    void classifiers.start(signal);
    this.health?.metrics.declareClassifiers(classifiers.names);

    publisher.start();

    const cameras = Object.entries(config.cameras).filter(([, c]) => c.enabled);
    const nextId = trackIdSequence();
    const snapshotStore = config.snapshots.dir ? new SnapshotStore(config.snapshots.dir, config.snapshots.keep, { logger: log.child({ module: 'snapshots' }) }) : undefined;
    const countedLabels = [...new Set([...config.events.labels, ...config.filters.labels])];
    const state = stateDir();
    const detectStore = state ? new DetectStateStore(join(state, 'detect.json'), log.child({ module: 'control' })) : undefined;
    const savedDetect = detectStore?.load() ?? {};
    // Image files decode only as large as their readers need: the model's input, and the snapshots' and live page's
    // width when those are on (a 4000x3000 JPEG then costs what a 1000x750 one does).
    const pictureWidth = (config.events.enabled && config.snapshots.enabled) || this.health ? config.snapshots.maxWidth : 0;
    const pictureSize = { width: Math.max(detector.model.inputWidth, pictureWidth), height: detector.model.inputHeight };
    for (const [name, cam] of cameras) {
      const camLog = log.child({ module: 'camera', camera: name });
      const events = config.events.enabled
        ? new CameraEvents(
            {
              camera: name,
              tracker: { iouThreshold: config.events.iouThreshold, minHits: config.events.minHits, maxMissed: config.events.maxMissed, zones: cam.zones, masks: cam.masks, nextId },
              labels: countedLabels,
              snapshots: { ...config.snapshots, ...(snapshotStore ? { store: snapshotStore } : {}) },
              eventPublish: { qos: config.mqtt.qos, retain: false, offline: 'queue' },
            },
            publisher,
            camLog,
          )
        : undefined;
      const pipeline = new CameraPipeline(
        {
          camera: name,
          detectFps: cam.detect.fps,
          resize: config.detector.resize,
          filters: cam.filters,
          detecting: savedDetect[name] ?? true,
          preview: { maxWidth: config.snapshots.maxWidth, quality: config.snapshots.quality },
          motion: cam.motion,
          ...(cam.classify && classifiers.size > 0 ? { classify: new ClassifyStage(classifiers.all, camLog, classifierStats) } : {}),
          publish: { qos: config.mqtt.qos, retain: config.mqtt.retainDetections, offline: 'queue', ...(config.mqtt.detectionExpirySec > 0 ? { expirySec: config.mqtt.detectionExpirySec } : {}) },
        },
        // A camera whose detections are classified, or whose motion regions are cut from its frames, keeps its images
        // whole: crops and regions come from the full resolution.
        createSource(name, cam.source, camLog, (cam.classify && classifiers.size > 0) || cam.motion.enabled === true ? {} : { decodeAtLeast: pictureSize }),
        detector,
        publisher,
        camLog,
        events,
      );
      check();
      try {
        await pipeline.start();
        this.pipelines.set(name, pipeline);
        publisher.onConnect(() => pipeline.publishStatus());
        if (events) publisher.onConnect(() => events.republish());
        if (pipeline.motion) publisher.onConnect(() => pipeline.motion?.republish());
        const snapshot = events && config.snapshots.enabled ? () => pipeline.requestSnapshot() : undefined;
        new CameraControl({ camera: name, ...(snapshot ? { snapshot } : {}), ...(detectStore ? { store: detectStore } : {}) }, pipeline, publisher, camLog).start();
      } catch (err) {
        camLog.error({ err: (err as Error).message }, 'camera failed to start; the other cameras go on');
      }
    }
    if (this.pipelines.size === 0) throw new Error('no camera could start (see the errors above)');

    check();
    let liveUrl: string | undefined;
    if (this.health) {
      this.http = new HttpServer({ host: config.http.host, port: config.http.port, allowedHosts: config.http.allowedHosts }, this.health, log.child({ module: 'http' }));
      const { port } = await this.http.start();
      log.info({ url: `http://${config.http.host}:${port}/` }, 'HTTP endpoint: /healthz, /metrics and the live page');
      liveUrl = liveConfigurationUrl(config.http.host, port, hostname());
    }
    // After the HTTP endpoint, whose port (0: any free one) the device's link to the live page needs.
    if (config.homeassistant.enabled) {
      const pkg = JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')) as { version: string; homepage?: string };
      publishDiscovery(
        publisher,
        () => ({
          discoveryPrefix: config.homeassistant.discoveryPrefix,
          topicPrefix: config.mqtt.topicPrefix,
          deviceId: config.device.id,
          version: pkg.version,
          ...(liveUrl ? { configurationUrl: liveUrl } : {}),
          ...(pkg.homepage ? { supportUrl: pkg.homepage } : {}),
          cameras: [...this.pipelines.keys()].map((camera) => ({
            name: camera,
            labels: config.events.enabled ? countedLabels : [],
            events: config.events.enabled,
            snapshots: config.events.enabled && config.snapshots.enabled,
            motion: config.cameras[camera]?.motion.enabled ?? false,
            subLabel: config.events.enabled && classifiers.size > 0 && (config.cameras[camera]?.classify ?? true),
          })),
        }),
        log.child({ module: 'homeassistant' }),
      );
    }

    const intervalMs = config.stats.intervalSec * 1000;
    this.statsTimer = setInterval(() => this.publishStats(), intervalMs);
    log.info(
      { cameras: [...this.pipelines.keys()], model: detector.model.name, kind: detector.model.kind, backend: detector.backend, topic: baseTopic },
      'mobilenet-edge running',
    );
  }

  /**
   * Applies what can change live from a reloaded config (log level, filters, detect.fps, stats interval) and returns
   * what changed; keys that need a restart are reported and left as they run now.
   */
  reload(next: AppConfig): ConfigChanges {
    const changes = diffConfig(this.config, next);
    this.log.level = next.log.level;
    for (const [name, pipeline] of this.pipelines) {
      const cam = next.cameras[name];
      if (cam) pipeline.update({ filters: cam.filters, detectFps: cam.detect.fps });
    }
    if (next.stats.intervalSec !== this.config.stats.intervalSec && this.statsTimer) {
      clearInterval(this.statsTimer);
      this.statsTimer = setInterval(() => this.publishStats(), next.stats.intervalSec * 1000);
    }
    // Restart-only keys keep their running values, so that the next diff still reports them.
    this.config = {
      ...this.config,
      log: { ...this.config.log, level: next.log.level },
      filters: next.filters,
      stats: next.stats,
      cameras: Object.fromEntries(
        Object.entries(this.config.cameras).map(([name, cam]) => {
          const n = next.cameras[name];
          return [name, n ? { ...cam, filters: n.filters, detect: n.detect } : cam];
        }),
      ),
    };
    return changes;
  }

  /** Frames processed by all cameras so far (READY=1 waits for the first). */
  framesProcessed(): number {
    let n = 0;
    for (const p of this.pipelines.values()) n += p.counters().processed;
    return n;
  }

  /** Per camera, frames delivered and frames finished: what the watchdog judges (see PipelineWatch). */
  cameraProgress(): CameraProgress[] {
    return [...this.pipelines].map(([camera, p]) => {
      const c = p.counters();
      // Frames set aside while detection is paused are finished too: a paused camera is not a stuck one.
      return { camera, captured: c.captured, settled: c.processed + c.errors + p.framesSetAside, detectFps: this.config.cameras[camera]?.detect.fps ?? 0 };
    });
  }

  /** One line for `systemctl status`. */
  summary(): string {
    const backend = this.detectorState?.backend ?? this.detector?.backend ?? 'none';
    const mqtt = this.publisher?.snapshot();
    return `${this.pipelines.size} camera(s), ${this.framesProcessed()} frames processed, backend ${backend}, MQTT ${mqtt?.connected ? 'connected' : 'disconnected'}${mqtt && mqtt.queued > 0 ? `, ${mqtt.queued} queued` : ''}`;
  }

  /** Stops everything in reverse order; safe to call twice and after a failed start. */
  async stop(): Promise<void> {
    clearInterval(this.statsTimer);
    await Promise.all([...this.pipelines.values()].map((p) => p.stop().catch((err: Error) => this.log.warn({ err: err.message }, 'camera stop failed'))));
    if (this.publisher && this.stats && this.pipelines.size > 0) this.publishStats();
    await this.http?.stop();
    await this.publisher?.stop();
    await this.outbox?.close();
    await Promise.all([this.detector?.stop(), this.classifiers?.stop()]);
    this.stats?.stop();
  }

  private publishStats(): void {
    if (!this.stats || !this.publisher) return;
    const payload = this.stats.collect();
    this.health?.onStats(payload);
    this.publisher.publish(this.publisher.topic('stats'), JSON.stringify(payload), { qos: 0, retain: true, offline: 'latest' });
    const cams = Object.fromEntries(
      Object.entries(payload.cameras).map(([n, c]) => [n, { fps: c.fps.processed, ...c.totals }]),
    );
    this.log.info({ cameras: cams, inferenceP50Ms: payload.detector.inferenceMs.p50, rssMb: payload.process.rssMb, mqttConnected: payload.mqtt.connected }, 'stats');
  }
}

/** The stats of each classifier: its state (as on the detector topic) with its counters and latencies. */
function classifierStatsEntries(set: ClassifierSet, stats: ClassifierStats): Record<string, import('./stats/stats-reporter.js').ClassifierStatsEntry> {
  const figures = stats.snapshot(set.names);
  return Object.fromEntries(set.states().map((s) => [s.name, { state: s.state, backend: s.backend, reason: s.reason, ...figures[s.name]! }]));
}

/** The service's state directory: $MOBILENET_EDGE_STATE_DIR, else $STATE_DIRECTORY (set by systemd), else none. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.MOBILENET_EDGE_STATE_DIR || env.STATE_DIRECTORY?.split(':')[0] || null;
}

/** The outbox directory: configured, else the service's state directory, else none. */
export function outboxDir(configured: string | null, env: NodeJS.ProcessEnv = process.env): string | null {
  if (configured) return configured;
  const state = stateDir(env);
  return state ? join(state, 'outbox') : null;
}

/** Where `detector.threads: 0` keeps what it measured: in the state directory, else nowhere. */
export function threadsCacheFile(env: NodeJS.ProcessEnv = process.env): string | null {
  const state = stateDir(env);
  return state ? join(state, 'cpu-threads.json') : null;
}
