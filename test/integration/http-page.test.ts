import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { HttpServer, type HealthReport, type HealthSource, type LiveReport } from '../../src/http/server.js';
import { MetricsRecorder } from '../../src/http/metrics.js';
import { silentLogger } from '../../src/system/logger.js';
import type { StatsPayload } from '../../src/stats/stats-reporter.js';
import type { LatencySummary } from '../../src/stats/latency-window.js';

const CHROMIUM = '/usr/bin/chromium';
/**
 * playwright-core's launch() gives Chromium a new empty profile of its own (it refuses --user-data-dir here).
 * Without the background-networking flags Chromium keeps dialling out, and this machine's closed network refuses it. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const lat = (p50: number): LatencySummary => ({ count: 10, mean: p50, p50, p95: p50 + 5, p99: p50 + 8, max: p50 + 10 });

/** A daemon stand-in with two cameras whose frames, counters and stats interval change every second. */
class TickingSource implements HealthSource {
  metrics = new MetricsRecorder({ defaultMetrics: false });
  private tick = 0;
  private payload: StatsPayload | undefined;
  private frames = new Map<string, { camera: string; jpeg: Buffer; ts: string }>();
  private timer: NodeJS.Timeout | undefined;

  async start(): Promise<void> {
    await this.advance();
    this.timer = setInterval(() => void this.advance(), 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  health(): HealthReport {
    return { status: 'ok', reasons: [] };
  }
  stats(): StatsPayload | undefined {
    // Like the daemon with its default 60 s interval: no stats interval for a while; the page must not wait for one.
    return this.tick > 3 ? this.payload : undefined;
  }
  async preview(camera?: string): Promise<{ camera: string; jpeg: Buffer; ts: string } | undefined> {
    return this.frames.get(camera ?? 'front');
  }
  cameras(): string[] {
    return ['front', 'back'];
  }
  live(): LiveReport {
    const i = this.tick;
    const cam = (n: number, state: string) => ({
      state,
      reason: state === 'online' ? 'streaming' : 'ffmpeg exited with code 1; restarting in 4 s',
      detecting: n === 1,
      totals: { captured: i * 15, processed: i * 5 * n, dropped: i, skipped: 0, errors: 0 },
      recent: { frames: 32, inferenceMs: 10 * n + (i % 5), totalMs: 12 * n + (i % 5) },
    });
    return { ts: new Date().toISOString(), backend: 'edgetpu', mqtt: { state: 'connected' }, cameras: { front: cam(1, 'online'), back: cam(2, 'offline') } };
  }

  private async advance(): Promise<void> {
    const i = ++this.tick;
    const ts = new Date().toISOString();
    const jpeg = await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: (i * 40) % 256, g: 80, b: 160 } } })
      .jpeg()
      .toBuffer();
    this.frames.set('front', { camera: 'front', jpeg, ts });
    this.frames.set('back', { camera: 'back', jpeg: await sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 0, g: (i * 40) % 256, b: 0 } } }).jpeg().toBuffer(), ts });
    const p50 = 10 + (i % 20);
    this.payload = {
      v: 1,
      ts,
      device: 'test',
      uptimeSec: i,
      intervalSec: 1,
      backend: 'edgetpu',
      model: 'ssd',
      process: { rssMb: 100, heapUsedMb: 20, cpuPercent: 30, eventLoopLagMs: { p50: 1, p99: 2, max: 3 } },
      detector: {
        backend: 'edgetpu',
        model: 'ssd',
        inferences: i * 10,
        errors: 0,
        failovers: 0,
        recoveries: 0,
        inferenceMs: lat(p50),
        byBackend: { edgetpu: lat(p50) },
      },
      cameras: {
        front: {
          fps: { captured: 15, processed: 5 + (i % 7), dropped: 1 },
          totals: { captured: i * 15, processed: i * 10, dropped: i, skipped: 0, errors: 0, restarts: 0, stalls: 0 },
          latencyMs: { capture: lat(1), preprocess: lat(2), inference: lat(p50), postprocess: lat(1), total: lat(p50 + 4) },
        },
      },
      mqtt: { connected: true, state: 'connected', reason: null, downSince: null, published: i * 10, queued: 0, droppedOffline: 0, outbox: 'disk', outboxMemoryOnly: 0, outboxLost: 0, publishErrors: 0, reconnects: 0 },
    };
  }
}

/**
 * Bounds each browser step (launch, load, a change to show up): only a failing step reaches it. Chromium is slow to
 * start and render on a loaded 2-core machine; the page polls every second and the fake source moves every second.
 */
const BROWSER_MS = 20_000;
/** Launching it: a launch that times out skips the test (as a missing Chromium does), so this one is longer still. */
const LAUNCH_MS = 60_000;
let missing: string | undefined = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (Debian package chromium: apt-get install -y chromium)`;
let browser: Browser | undefined;
let server: HttpServer | undefined;
let base = '';
const source = new TickingSource();

beforeAll(async () => {
  await source.start();
  server = new HttpServer({ host: '127.0.0.1', port: 0 }, source, silentLogger());
  base = `http://127.0.0.1:${(await server.start()).port}`;
  if (missing) return;
  try {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: LAUNCH_MS });
  } catch (err) {
    missing = `Chromium at ${CHROMIUM} could not be launched by playwright-core: ${(err as Error).message.split('\n')[0]}`;
  }
}, LAUNCH_MS + 30_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  source.stop();
});

describe('live page in headless Chromium', () => {
  it('shows the latest frame, the numbers and the latency chart, and keeps them current', { timeout: 6 * BROWSER_MS }, async (ctx) => {
    if (missing) {
      console.warn(`SKIPPED live page browser test: ${missing}`);
      ctx.skip(missing);
    }
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    // Browser-side code goes in as strings: the project compiles without the DOM lib.
    const inPage = <T>(expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;
    const until = (expr: string, arg?: unknown, timeout = BROWSER_MS) =>
      page.waitForFunction(arg === undefined ? expr : `(${expr})(${JSON.stringify(arg)})`, undefined, { timeout });
    const text = (id: string) => `document.getElementById(${JSON.stringify(id)}).textContent`;
    const tileImg = (camera: string) => `document.querySelector('.tile[data-camera=${JSON.stringify(camera)}] img')`;
    const tileText = (camera: string) => `document.querySelector('.tile[data-camera=${JSON.stringify(camera)}] .caption').textContent`;
    try {
      await page.goto(base, { timeout: BROWSER_MS });

      // One tile per camera, each with its own latest frame (before: one image for all cameras).
      await until(`${tileImg('front')}?.naturalWidth > 0 && ${tileImg('back')}?.naturalWidth > 0`, undefined, BROWSER_MS);
      expect(await inPage(`[${tileImg('front')}.naturalWidth, ${tileImg('back')}.naturalWidth]`)).toEqual([160, 80]);
      await until(`/fps/.test(${tileText('front')})`);
      expect(await inPage<string>(tileText('front'))).toMatch(/online.*detecting.*fps.*inference \d+\.\d ms/);
      expect(await inPage<string>(tileText('back'))).toMatch(/offline: ffmpeg exited.*detection paused/);
      // Local time, not UTC ISO strings.
      expect(await inPage<string>(text('status'))).toMatch(/^edgetpu · MQTT connected · \d{1,2}:\d{2}:\d{2}/);

      // The chart moves from the first seconds, before any stats interval (the source gives none for 3 s), with an axis.
      await until(`document.querySelectorAll('#lines polyline').length === 2 && document.querySelector('#lines polyline').getAttribute('points').trim().split(/\\s+/).length >= 2`, undefined, BROWSER_MS);
      const axis = await inPage<string[]>("[...document.querySelectorAll('#grid text')].map((t) => t.textContent)");
      expect(axis).toEqual(expect.arrayContaining(['0', '-5 min', 'now']));
      const firstSrc = await inPage<string>(`${tileImg('front')}.src`);
      await until(`(before) => ${tileImg('front')}.src !== before && ${tileImg('front')}.naturalWidth > 0`, firstSrc);

      // The interval numbers come once the stats interval has closed.
      await until(`/^\\d+\\.\\d$/.test(${text('inference-p50')})`, undefined, BROWSER_MS);
      const ids = ['backend', 'inference-p50', 'fps-processed', 'dropped', 'mqtt-connected'];
      const read = () => inPage<Record<string, string>>(`({${ids.map((id) => `${JSON.stringify(id)}: ${text(id)}`).join(', ')}})`);
      const first = await read();
      expect(first.backend).toBe('edgetpu');
      expect(first['mqtt-connected']).toBe('yes');
      expect(Number(first['inference-p50'])).toBeGreaterThanOrEqual(10);
      await until(`(before) => { const now = ${text('inference-p50')}; return now !== before && /^\\d+\\.\\d$/.test(now); }`, first['inference-p50']);
      expect(Number((await read()).dropped)).toBeGreaterThan(Number(first.dropped));
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
