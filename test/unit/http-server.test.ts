import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { HttpServer, type HealthReport, type HealthSource, type LiveReport } from '../../src/http/server.js';
import { MetricsRecorder } from '../../src/http/metrics.js';
import { createLogger, silentLogger } from '../../src/system/logger.js';
import { AllowedHosts, hostOf } from '../../src/http/allowed-hosts.js';
import os from 'node:os';
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
  async preview(camera?: string): Promise<{ camera: string; jpeg: Buffer; ts: string } | undefined> {
    this.previewAsked.push(camera);
    return camera === undefined || camera === this.snapshot?.camera ? this.snapshot : undefined;
  }
  previewAsked: (string | undefined)[] = [];
  cameras(): string[] {
    return ['front door'];
  }
  live(): LiveReport {
    return { ts: '2026-01-01T00:00:00.000Z', backend: 'cpu', mqtt: { state: 'connected' }, cameras: {} };
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

  it('serves the latest frame as JPEG, 204 while there is none yet (browsers log a 404 as an error); /api/stats likewise', async () => {
    const source = new FakeSource();
    const base = await serve(source);
    let r = await fetch(`${base}/snapshot.jpg`);
    expect(r.status).toBe(204);
    expect((await fetch(`${base}/api/stats`)).status).toBe(204);

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
    // Per camera: ?camera=NAME, with a 404 naming an unknown one.
    expect((await fetch(`${base}/snapshot.jpg?camera=${encodeURIComponent('front door')}`)).status).toBe(200);
    r = await fetch(`${base}/snapshot.jpg?camera=garden`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'no camera "garden"' });
    expect(source.previewAsked).toEqual([undefined, undefined, 'front door']);
    expect(await (await fetch(`${base}/api/live`)).json()).toMatchObject({ backend: 'cpu', cameras: {} });
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

/** A raw request, so the test controls the request target and the Host header exactly as an attacker would. */
function raw(base: string, target: string, host: string | undefined): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: target, method: 'GET', setHost: host === undefined ? false : undefined, headers: host === undefined ? {} : { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HttpServer against hostile requests', () => {
  it('answers a request target that is not a path ("//[") with 400 and logs no stack trace', async () => {
    const lines: string[] = [];
    const log = createLogger('debug', { write: (s: string) => void lines.push(s) });
    server = new HttpServer({ host: '127.0.0.1', port: 0 }, new FakeSource(), log);
    const { port } = await server.start();
    const base = `http://127.0.0.1:${port}`;
    for (const target of ['//[', '//[::1', '//example.com/healthz']) {
      const r = await raw(base, target, `127.0.0.1:${port}`);
      expect(r.status, target).not.toBe(500); // before: 500 and a stack per request
      expect([400, 404]).toContain(r.status);
    }
    expect((await raw(base, '//[', `127.0.0.1:${port}`)).status).toBe(400);
    expect(lines.join('')).not.toMatch(/"stack"|\n\s+at /);
    expect((await raw(base, '/healthz?x=1#y', `127.0.0.1:${port}`)).status).toBe(200);
  });

  it('serves localhost names, IP addresses, the host name and configured names; refuses other Host headers (DNS rebinding) with 403', async () => {
    const lines: string[] = [];
    const log = createLogger('warn', { write: (s: string) => void lines.push(s) });
    const source = new FakeSource();
    source.snapshot = { camera: 'door', jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]), ts: 'now' };
    server = new HttpServer({ host: '0.0.0.0', port: 0, allowedHosts: ['pi.example.lan'] }, source, log);
    const { port } = await server.start();
    const base = `http://127.0.0.1:${port}`;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `192.168.1.20:${port}`, `${os.hostname()}:${port}`, `${os.hostname()}.local`, `PI.example.lan:${port}`, 'localhost']) {
      expect((await raw(base, '/snapshot.jpg', host)).status, host).toBe(200);
    }
    for (const host of [`evil.example.com:${port}`, 'rebind.attacker.net', 'pi.example.lan.evil.com', 'localhost.evil.com', 'a b']) {
      const r = await raw(base, '/snapshot.jpg', host);
      expect(r.status, host).toBe(403); // before: the snapshot, to any page that rebinds its name to us
      expect(r.body).toMatch(/http\.allowedHosts/);
      expect((await raw(base, '/api/stats', host)).status, host).toBe(403);
    }
    // One warning per refused name, not one per request.
    expect(lines.filter((l) => l.includes('evil.example.com'))).toHaveLength(1);
  });
});

describe('hostOf and AllowedHosts', () => {
  it('reads the host part of Host headers', () => {
    expect(hostOf('Example.COM:8080')).toBe('example.com');
    expect(hostOf('[::1]:9464')).toBe('::1');
    expect(hostOf('host.local.')).toBe('host.local');
    expect(hostOf('a/b')).toBeUndefined();
    expect(hostOf('')).toBeUndefined();
  });

  it('allows the listen address when it is a name', () => {
    const hosts = new AllowedHosts('camera-box', [], 'pi');
    expect(hosts.allows('camera-box:9464')).toBe(true);
    expect(hosts.allows('pi.local')).toBe(true);
    expect(hosts.allows('other')).toBe(false);
    expect(hosts.allows(undefined)).toBe(true);
  });
});
