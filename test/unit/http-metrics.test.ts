import { describe, expect, it } from 'vitest';
import { MetricsRecorder, METRIC_PREFIX } from '../../src/http/metrics.js';
import type { StatsPayload } from '../../src/stats/stats-reporter.js';
import type { LatencySummary } from '../../src/stats/latency-window.js';
import { buildInfo } from '../../src/http/build-info.js';
import type { AppConfig } from '../../src/config/index.js';
import { PROMTOOL_MISSING, promtoolCheck } from '../helpers/promtool.js';

const BUILD = { version: '0.1.0', nodejsVersion: process.version, model: 'ssd_edgetpu.tflite', cpuModel: 'ssd.tflite', backendSetting: 'auto' };

const lat = (p50: number): LatencySummary => ({ count: 10, mean: p50, p50, p95: p50 * 1.5, p99: p50 * 2, max: p50 * 3 });

function stats(over: { dropped?: number; errors?: number; failovers?: number; connected?: boolean; queued?: number } = {}): StatsPayload {
  return {
    v: 1,
    ts: '2026-01-01T00:00:00.000Z',
    device: 'test',
    uptimeSec: 10,
    intervalSec: 10,
    backend: 'edgetpu',
    model: 'ssd',
    process: { rssMb: 100, heapUsedMb: 20, cpuPercent: 30, eventLoopLagMs: { p50: 1, p99: 2, max: 3 } },
    detector: {
      backend: 'edgetpu',
      model: 'ssd',
      inferences: 100,
      errors: over.errors ?? 0,
      failovers: over.failovers ?? 0,
      recoveries: 0,
      inferenceMs: lat(12),
      byBackend: { edgetpu: lat(12) },
    },
    cameras: {
      front: {
        fps: { captured: 15, processed: 9.5, dropped: 5.5 },
        totals: { captured: 150, processed: 95, dropped: over.dropped ?? 0, skipped: 0, errors: 0, restarts: 0, stalls: 0 },
        latencyMs: { capture: lat(1), preprocess: lat(2), inference: lat(12), postprocess: lat(1), total: lat(16) },
      },
    },
    mqtt: {
      connected: over.connected ?? true,
      state: over.connected === false ? 'unreachable' : 'connected',
      reason: null,
      downSince: null,
      published: 42,
      queued: over.queued ?? 0,
      droppedOffline: 0,
      outbox: 'disk',
      outboxMemoryOnly: 0,
      outboxLost: 0,
      publishErrors: 0,
      reconnects: 0,
    },
  };
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
// Prometheus parses values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes `Nan`).
const VALUE = '(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|[Nn][Aa][Nn]|[-+]?[Ii][Nn][Ff])';
const SAMPLE = new RegExp(`^(${METRIC_NAME})(?:\\{(?:${LABEL}(?:,${LABEL})*)?\\})? ${VALUE}(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${METRIC_NAME}) .*$`);
const TYPE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);

/** Checks the text exposition format line by line (prom-client ships no parser) and returns the samples by line. */
function parseExposition(text: string): Map<string, number> {
  const helps = new Set<string>();
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const lines = text.split('\n');
  expect(lines.at(-1)).toBe(''); // ends with a newline
  for (const line of lines.slice(0, -1)) {
    if (line === '') continue;
    let m = HELP.exec(line);
    if (m) {
      helps.add(m[1]!);
      continue;
    }
    m = TYPE.exec(line);
    if (m) {
      expect(types.has(m[1]!), `TYPE twice for ${m[1]}`).toBe(false);
      types.set(m[1]!, m[2]!);
      continue;
    }
    expect(line.startsWith('#'), `unexpected comment: ${line}`).toBe(false);
    m = SAMPLE.exec(line);
    expect(m, `not a sample line: ${JSON.stringify(line)}`).not.toBeNull();
    const name = m![1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(family), `no TYPE before ${name}`).toBe(true);
    expect(helps.has(family), `no HELP before ${name}`).toBe(true);
    const i = line.lastIndexOf(' ');
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return samples;
}

describe('MetricsRecorder', () => {
  it('exposes well-formed Prometheus text: own metrics prefixed, process and Node.js metrics under their standard names', async () => {
    const m = new MetricsRecorder({ build: BUILD });
    m.observeInference(12, 'edgetpu');
    m.observeInference(80, 'cpu');
    m.update(stats());
    const text = await m.text();
    const samples = parseExposition(text);
    expect(samples.size).toBeGreaterThan(20);
    for (const key of samples.keys()) expect(key, key).toMatch(/^(mobilenet_edge_|process_|nodejs_)/);
    // What Node.js and process dashboards query, unprefixed as every exporter names them.
    for (const name of ['process_cpu_seconds_total', 'process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'process_max_fds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(samples.has(name), name).toBe(true);
    }
    expect(text).not.toMatch(/^mobilenet_edge_(process|nodejs)_/m);
    // Gauges named _total (prom-client's counts of active handles) are not exposed: promtool rejects them.
    for (const [, family, type] of [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)]) {
      if (family!.endsWith('_total')) expect(type, family).toBe('counter');
    }
    expect(text).toContain('# TYPE mobilenet_edge_inference_seconds histogram');
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('says which version, Node.js and models run (build_info) and which backend is active', async () => {
    const m = new MetricsRecorder({ defaultMetrics: false, build: BUILD });
    m.update(stats());
    let s = parseExposition(await m.text());
    expect(s.get(`mobilenet_edge_build_info{version="0.1.0",nodejs_version="${process.version}",model="ssd_edgetpu.tflite",cpu_model="ssd.tflite",backend_setting="auto"}`)).toBe(1);
    expect(s.get('mobilenet_edge_backend{backend="edgetpu"}')).toBe(1);
    expect(s.get('mobilenet_edge_backend{backend="cpu"}')).toBe(0);
    expect(s.get('mobilenet_edge_backend{backend="none"}')).toBe(0);
    m.update({ ...stats(), backend: 'cpu' });
    s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_backend{backend="edgetpu"}')).toBe(0);
    expect(s.get('mobilenet_edge_backend{backend="cpu"}')).toBe(1);
  });

  it('has histogram buckets where a Pi CPU inference falls (0.2, 0.3, 0.4 s)', async () => {
    const m = new MetricsRecorder({ defaultMetrics: false });
    m.observeInference(280, 'cpu');
    const s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_inference_seconds_bucket{le="0.25",backend="cpu"}')).toBe(0);
    expect(s.get('mobilenet_edge_inference_seconds_bucket{le="0.3",backend="cpu"}')).toBe(1);
    for (const le of ['0.2', '0.4']) expect(s.has(`mobilenet_edge_inference_seconds_bucket{le="${le}",backend="cpu"}`), le).toBe(true);
  });

  it('counts frames captured, processed, dropped and skipped per camera, read live at each scrape', async () => {
    const totals = { captured: 0, processed: 0, dropped: 0, skipped: 0, errors: 0, restarts: 0, stalls: 0 };
    let backend = 'edgetpu';
    const m = new MetricsRecorder({ defaultMetrics: false, live: { cameraTotals: () => ({ front: { ...totals } }), backend: () => backend } });
    let s = parseExposition(await m.text());
    for (const what of ['captured', 'processed', 'dropped', 'skipped']) expect(s.get(`mobilenet_edge_camera_${what}_frames_total{camera="front"}`), what).toBe(0);

    Object.assign(totals, { captured: 30, processed: 20, dropped: 9, skipped: 1 });
    s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_camera_captured_frames_total{camera="front"}')).toBe(30);
    expect(s.get('mobilenet_edge_camera_processed_frames_total{camera="front"}')).toBe(20);
    expect(s.get('mobilenet_edge_camera_dropped_frames_total{camera="front"}')).toBe(9);
    expect(s.get('mobilenet_edge_camera_skipped_frames_total{camera="front"}')).toBe(1);
    // A stats interval with older totals changes nothing: live readings own the camera counters.
    m.update(stats({ dropped: 2 }));
    Object.assign(totals, { captured: 45, processed: 29 });
    backend = 'cpu';
    s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_camera_captured_frames_total{camera="front"}')).toBe(45);
    expect(s.get('mobilenet_edge_camera_processed_frames_total{camera="front"}')).toBe(29);
    expect(s.get('mobilenet_edge_camera_dropped_frames_total{camera="front"}')).toBe(9);
    expect(s.get('mobilenet_edge_backend{backend="cpu"}')).toBe(1);
    // The fps gauges still come from the stats interval.
    expect(s.get('mobilenet_edge_camera_processed_fps{camera="front"}')).toBe(9.5);
  });

  it.skipIf(PROMTOOL_MISSING !== '')(`passes promtool check metrics without a warning, fed realistic values${PROMTOOL_MISSING ? ` (skipped: ${PROMTOOL_MISSING})` : ''}`, async () => {
    const totals = { captured: 1500, processed: 950, dropped: 540, skipped: 2, errors: 1, restarts: 1, stalls: 0 };
    const m = new MetricsRecorder({ build: BUILD, live: { cameraTotals: () => ({ front: totals, 'back-yard': totals }), backend: () => 'edgetpu' } });
    for (let i = 0; i < 200; i++) m.observeInference(8 + (i % 7), 'edgetpu');
    for (let i = 0; i < 20; i++) m.observeInference(150 + i * 10, 'cpu');
    m.update(stats({ dropped: 540, errors: 1, failovers: 1, connected: false, queued: 12 }));
    const text = await m.text();
    const { status, said } = promtoolCheck(text);
    expect(said).toBe('');
    expect(status).toBe(0);
    // The check can fail: a gauge named _total is what it flagged before.
    const bad = promtoolCheck(`${text}# HELP x_total a gauge misnamed\n# TYPE x_total gauge\nx_total 1\n`);
    expect(bad.said).toMatch(/x_total non-counter metrics should not have "_total" suffix/);
  });

  it.skipIf(PROMTOOL_MISSING !== '')(`exposes classifier latency per crop and crops per frame, promtool-clean${PROMTOOL_MISSING ? ` (skipped: ${PROMTOOL_MISSING})` : ''}`, async () => {
    const m = new MetricsRecorder({ build: BUILD });
    m.declareClassifiers(['birds', 'cars']);
    for (let i = 0; i < 30; i++) m.recordCrop('birds', 40 + i);
    m.recordFrame('birds', 2, 0);
    m.recordFrame('birds', 3, 2);
    m.recordCropError('birds');
    m.update(stats({ dropped: 0, errors: 0, failovers: 0, connected: true, queued: 0 }));
    const text = await m.text();
    expect(text).toMatch(/mobilenet_edge_classifier_crop_seconds_count\{classifier="birds"\} 30/);
    expect(text).toMatch(/mobilenet_edge_classifier_crop_seconds_bucket\{le="0.05",classifier="birds"\} 11/);
    expect(text).toMatch(/mobilenet_edge_classifier_crops_per_frame_sum\{classifier="birds"\} 5/);
    expect(text).toMatch(/mobilenet_edge_classifier_skipped_crops_total\{classifier="birds"\} 2/);
    expect(text).toMatch(/mobilenet_edge_classifier_crop_errors_total\{classifier="birds"\} 1/);
    // Declared but idle: its series exist at 0 from the start.
    expect(text).toMatch(/mobilenet_edge_classifier_crop_seconds_count\{classifier="cars"\} 0/);
    const { status, said } = promtoolCheck(text);
    expect(said).toBe('');
    expect(status).toBe(0);
  });

  it('keeps inference latency per backend, in seconds', async () => {
    const m = new MetricsRecorder({ defaultMetrics: false });
    m.observeInference(12, 'edgetpu');
    m.observeInference(14, 'edgetpu');
    m.observeInference(80, 'cpu');
    const s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_inference_seconds_count{backend="edgetpu"}')).toBe(2);
    expect(s.get('mobilenet_edge_inference_seconds_count{backend="cpu"}')).toBe(1);
    expect(s.get('mobilenet_edge_inference_seconds_sum{backend="edgetpu"}')).toBeCloseTo(0.026, 6);
    expect(s.get('mobilenet_edge_inference_seconds_bucket{le="0.01",backend="edgetpu"}')).toBe(0);
    expect(s.get('mobilenet_edge_inference_seconds_bucket{le="0.015",backend="edgetpu"}')).toBe(2);
    expect(s.get('mobilenet_edge_inference_seconds_bucket{le="0.075",backend="cpu"}')).toBe(0);
    expect(s.get('mobilenet_edge_inference_seconds_bucket{le="0.1",backend="cpu"}')).toBe(1);
    expect(s.get('mobilenet_edge_inference_seconds_bucket{le="+Inf",backend="cpu"}')).toBe(1);
  });

  it('sets gauges from the latest interval and advances counters by the growth of the totals', async () => {
    const m = new MetricsRecorder({ defaultMetrics: false });
    m.update(stats({ dropped: 5, errors: 1, failovers: 1, connected: true, queued: 0 }));
    let s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_camera_processed_fps{camera="front"}')).toBe(9.5);
    expect(s.get('mobilenet_edge_camera_captured_fps{camera="front"}')).toBe(15);
    expect(s.get('mobilenet_edge_camera_dropped_frames_total{camera="front"}')).toBe(5);
    expect(s.get('mobilenet_edge_camera_errors_total{camera="front"}')).toBe(0);
    expect(s.get('mobilenet_edge_mqtt_connected')).toBe(1);
    expect(s.get('mobilenet_edge_mqtt_outbox_depth')).toBe(0);

    m.update(stats({ dropped: 8, errors: 3, failovers: 2, connected: false, queued: 17 }));
    s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_camera_dropped_frames_total{camera="front"}')).toBe(8);
    expect(s.get('mobilenet_edge_inference_errors_total')).toBe(3);
    expect(s.get('mobilenet_edge_detector_failovers_total')).toBe(2);
    expect(s.get('mobilenet_edge_detector_recoveries_total')).toBe(0);
    expect(s.get('mobilenet_edge_mqtt_connected')).toBe(0);
    expect(s.get('mobilenet_edge_mqtt_outbox_depth')).toBe(17);

    // A source that starts over (camera re-created) keeps the counter monotonic.
    m.update(stats({ dropped: 2 }));
    s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_camera_dropped_frames_total{camera="front"}')).toBe(10);
  });

  it('counts motion gating per camera (frames with motion, detector runs, region inferences, still frames) and its time', async () => {
    const m = new MetricsRecorder({ defaultMetrics: false });
    const base = stats();
    const motion = (runs: number) => ({
      fps: { withMotion: 1, detectorRuns: 1, skipped: 8 },
      totals: { frames: 100, framesWithMotion: 10, detectorRuns: runs, inferences: runs * 2, skipped: 100 - runs },
      regionsPerRun: 2,
      motionMs: lat(0.5),
    });
    m.update({ ...base, cameras: { front: { ...base.cameras.front!, motion: motion(12) } } });
    let s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_camera_motion_frames_total{camera="front"}')).toBe(10);
    expect(s.get('mobilenet_edge_camera_detector_runs_total{camera="front"}')).toBe(12);
    expect(s.get('mobilenet_edge_camera_region_inferences_total{camera="front"}')).toBe(24);
    expect(s.get('mobilenet_edge_camera_still_frames_total{camera="front"}')).toBe(88);
    expect(s.get('mobilenet_edge_camera_motion_seconds{camera="front"}')).toBeCloseTo(0.0005, 6);
    m.update({ ...base, cameras: { front: { ...base.cameras.front!, motion: motion(15) } } });
    s = parseExposition(await m.text());
    expect(s.get('mobilenet_edge_camera_detector_runs_total{camera="front"}')).toBe(15);
    // A camera without motion gating has no motion series.
    const plain = new MetricsRecorder({ defaultMetrics: false });
    plain.update(stats());
    expect([...parseExposition(await plain.text()).keys()].some((k) => k.includes('motion'))).toBe(false);
  });

  it('uses a registry of its own: two recorders in one process do not collide', async () => {
    const a = new MetricsRecorder();
    const b = new MetricsRecorder();
    a.observeInference(5, 'cpu');
    expect(await b.text()).not.toContain('backend="cpu"');
    const { register } = await import('prom-client');
    expect(await register.metrics()).not.toContain(METRIC_PREFIX);
  });

  it('builds its build_info from package.json and the configured models: the model that runs first, and the CPU twin', () => {
    const detector = (backend: string): AppConfig['detector'] => ({ backend, model: { cpu: '/m/ssd.tflite', edgetpu: '/m/ssd_edgetpu.tflite' } }) as AppConfig['detector'];
    const auto = buildInfo(detector('auto'));
    expect(auto).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), nodejsVersion: process.version, model: 'ssd_edgetpu.tflite', cpuModel: 'ssd.tflite', backendSetting: 'auto' });
    expect(buildInfo(detector('cpu')).model).toBe('ssd.tflite');
  });
});
