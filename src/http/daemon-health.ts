import { performance } from 'node:perf_hooks';
import type { CameraPipeline } from '../pipeline/camera-pipeline.js';
import type { PublisherCounters } from '../publish/mqtt-publisher.js';
import type { CameraCounters } from '../stats/camera-stats.js';
import type { StatsPayload } from '../stats/stats-reporter.js';
import { MetricsRecorder, type BuildInfo } from './metrics.js';
import type { HealthReport, HealthSource, LiveReport } from './server.js';

/** A camera that has not published a frame for this long, or for 5 of its detect intervals, is not healthy. */
const STALE_MS = 10_000;

/** What the HTTP endpoint reads of the running daemon. */
export class DaemonHealth implements HealthSource {
  readonly metrics: MetricsRecorder;
  private latest: StatsPayload | undefined;
  private readonly startedAt = performance.now();
  private readonly backend: (() => string) | undefined;

  constructor(
    private readonly pipelines: () => Map<string, CameraPipeline>,
    private readonly detectorUp: () => boolean,
    private readonly detectFps: (camera: string) => number,
    private readonly mqtt: () => PublisherCounters,
    about: { build?: BuildInfo; backend?: () => string } = {},
  ) {
    const { build, backend } = about;
    this.backend = backend;
    // Frame counters are read at each scrape: rate() then follows the frames, not the stats interval (60 s by default).
    const cameraTotals = (): Record<string, CameraCounters> => Object.fromEntries([...this.pipelines()].map(([name, p]) => [name, p.counters()]));
    this.metrics = new MetricsRecorder({ build, live: backend && { backend, cameraTotals } });
  }

  onStats(stats: StatsPayload): void {
    this.latest = stats;
    this.metrics.update(stats);
  }

  health(): HealthReport {
    const reasons: string[] = [];
    const now = performance.now();
    if (!this.detectorUp()) reasons.push('no detector is answering');
    for (const [name, p] of this.pipelines()) {
      if (p.detecting === false) continue; // paused by a detect/set OFF command: publishing nothing is what was asked
      const fps = this.detectFps(name);
      const limit = Math.max(STALE_MS, fps > 0 ? 5000 / fps : 0);
      const since = now - Math.max(p.lastProcessedAt ?? this.startedAt, p.resumedAt ?? -Infinity);
      if (since > limit) reasons.push(`camera ${name}: no frame processed for ${Math.round(since / 1000)} s`);
    }
    if (this.pipelines().size === 0) reasons.push('no camera running');
    const detecting = reasons.length === 0;
    // A broker that is down holds up publishing, not detection: degraded, not unhealthy (see HealthStatus).
    const { state, reason, downSince, queued } = this.mqtt();
    if (state !== 'connected') reasons.push(`mqtt ${state}${reason ? ` (${reason})` : ''} since ${downSince}; ${queued} message(s) wait in the outbox`);
    const status = !detecting ? 'unhealthy' : reasons.length > 0 ? 'degraded' : 'ok';
    return { status, reasons, mqtt: { state, reason, downSince, queued } };
  }

  stats(): StatsPayload | undefined {
    return this.latest;
  }

  async preview(camera?: string): Promise<{ camera: string; jpeg: Buffer; ts: string } | undefined> {
    const pipelines = this.pipelines();
    const pipeline = camera === undefined ? pipelines.values().next().value : pipelines.get(camera);
    return pipeline?.preview.request();
  }

  cameras(): string[] {
    return [...this.pipelines().keys()];
  }

  live(): LiveReport {
    return {
      ts: new Date().toISOString(),
      backend: this.backend?.() ?? 'unknown',
      mqtt: { state: this.mqtt().state },
      cameras: Object.fromEntries([...this.pipelines()].map(([name, p]) => [name, p.live()])),
    };
  }
}
