import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { HttpServer, type HealthReport, type HealthSource } from '../../src/http/server.js';
import { MetricsRecorder } from '../../src/http/metrics.js';
import { silentLogger } from '../../src/system/logger.js';
import type { StatsPayload } from '../../src/stats/stats-reporter.js';

class FakeSource implements HealthSource {
  status: HealthReport['status'] = 'ok';
  reasons: string[] = [];
  mqtt: HealthReport['mqtt'];
  payload: StatsPayload | undefined;
  snapshot: { camera: string; jpeg: Buffer; ts: string } | undefined;
  metrics = new MetricsRecorder({ defaultMetrics: false });
  health(): HealthReport {
    return { status: this.status, reasons: this.reasons, ...(this.mqtt ? { mqtt: this.mqtt } : {}) };
  }
  stats(): StatsPayload | undefined {
    return this.payload;
  }
  latestSnapshot(): { camera: string; jpeg: Buffer; ts: string } | undefined {
    return this.snapshot;
  }
}

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function serve(source: HealthSource): Promise<string> {
  server = new HttpServer({ host: '127.0.0.1', port: 0 }, source, silentLogger());
  const { port } = await server.start();
  expect(port).toBeGreaterThan(0);
  return `http://127.0.0.1:${port}`;
}

describe('HttpServer', () => {
  it('answers /healthz 200 only while healthy, 503 with the reasons otherwise', async () => {
    const source = new FakeSource();
    const base = await serve(source);
    let r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await r.json()).toEqual({ status: 'ok' });

    source.status = 'unhealthy';
    source.reasons = ['camera front: no frame for 12 s', 'detector: no answer for 5 s'];
    r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: 'unhealthy', reasons: source.reasons });

    source.status = 'ok';
    source.reasons = [];
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('answers /healthz 200 "degraded" with the reason and the broker state while MQTT is down: detecting goes on', async () => {
    const source = new FakeSource();
    source.status = 'degraded';
    source.reasons = ['mqtt refused (not authorised) since 2026-01-01T00:00:00.000Z; 3 message(s) wait in the outbox'];
    source.mqtt = { state: 'refused', reason: 'not authorised', downSince: '2026-01-01T00:00:00.000Z', queued: 3 };
    const r = await fetch(`${await serve(source)}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'degraded', reasons: source.reasons, mqtt: source.mqtt });
  });

  it('serves Prometheus text from the source recorder', async () => {
    const source = new FakeSource();
    source.metrics.observeInference(7, 'edgetpu');
    const base = await serve(source);
    const r = await fetch(`${base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await r.text()).toContain('mobilenet_edge_inference_seconds_count{backend="edgetpu"} 1');
  });

  it('serves the latest snapshot as JPEG, 404 JSON while there is none; /api/stats likewise', async () => {
    const source = new FakeSource();
    const base = await serve(source);
    let r = await fetch(`${base}/snapshot.jpg`);
    expect(r.status).toBe(404);
    expect(await r.json()).toHaveProperty('error');
    expect((await fetch(`${base}/api/stats`)).status).toBe(404);

    source.snapshot = { camera: 'front door', jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]), ts: '2026-01-01T00:00:00.000Z' };
    source.payload = { v: 1, ts: 'x' } as unknown as StatsPayload;
    r = await fetch(`${base}/snapshot.jpg`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/jpeg');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(decodeURIComponent(r.headers.get('x-camera')!)).toBe('front door');
    expect(Buffer.from(await r.arrayBuffer())).toEqual(source.snapshot.jpeg);
    r = await fetch(`${base}/api/stats`);
    expect(await r.json()).toEqual({ v: 1, ts: 'x' });
  });

  it('serves the live page at /', async () => {
    const base = await serve(new FakeSource());
    const r = await fetch(`${base}/?x=1`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await r.text();
    expect(html).toContain('/api/stats');
    expect(html).toContain('/snapshot.jpg');
  });

  it('answers unknown paths with 404 JSON and other methods with 405', async () => {
    const base = await serve(new FakeSource());
    let r = await fetch(`${base}/nope`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'not found' });
    expect((await fetch(`${base}/healthz/`)).status).toBe(404);

    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      r = await fetch(`${base}/healthz`, { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
    }
    expect(await (await fetch(`${base}/`, { method: 'POST' })).json()).toEqual({ error: 'method not allowed' });
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const source = new FakeSource();
    source.status = 'unhealthy';
    const base = await serve(source);
    const { status, length, body } = await new Promise<{ status: number; length: string | undefined; body: string }>((resolve, reject) => {
      const req = request(`${base}/healthz`, { method: 'HEAD' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, length: res.headers['content-length'], body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(503);
    expect(Number(length)).toBeGreaterThan(0);
    expect(body).toBe('');
  });

  it('reports a taken port from start() and stops promptly with a keep-alive connection open', async () => {
    const base = await serve(new FakeSource());
    const port = Number(new URL(base).port);
    const other = new HttpServer({ host: '127.0.0.1', port }, new FakeSource(), silentLogger());
    await expect(other.start()).rejects.toThrow(/EADDRINUSE/);

    await fetch(`${base}/healthz`, { headers: { connection: 'keep-alive' } });
    const t0 = Date.now();
    await server!.stop();
    // Without closing it, the stop waits for Node's keep-alive timeout (5 s) to drop the idle connection; closing it
    // takes milliseconds. The bound sits between the two, well clear of a loaded machine's delays.
    expect(Date.now() - t0).toBeLessThan(4000);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
