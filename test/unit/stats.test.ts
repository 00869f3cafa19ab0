import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { CameraStats } from '../../src/stats/camera-stats.js';
import { LatencyWindow } from '../../src/stats/latency-window.js';
import { StatsReporter } from '../../src/stats/stats-reporter.js';
import { MqttPublisher } from '../../src/publish/mqtt-publisher.js';
import { Outbox } from '../../src/publish/outbox.js';
import { silentLogger } from '../../src/system/logger.js';
import { ThrottledLog } from '../../src/system/throttled-log.js';
import pino from 'pino';

describe('LatencyWindow', () => {
  it('gives exact percentiles of 1..100', () => {
    const w = new LatencyWindow();
    for (let i = 100; i >= 1; i--) w.add(i);
    expect(w.summary()).toEqual({ count: 100, mean: 50.5, p50: 50, p95: 95, p99: 99, max: 100 });
    w.reset();
    expect(w.summary().count).toBe(0);
  });

  it('stays bounded past its capacity and keeps max and mean exact', () => {
    const w = new LatencyWindow(64);
    for (let i = 1; i <= 10_000; i++) w.add(i % 10 === 0 ? 1000 : 1);
    const s = w.summary();
    expect(s.count).toBe(10_000);
    expect(s.max).toBe(1000);
    expect(s.mean).toBeCloseTo(100.9, 1);
    expect(s.p50).toBe(1);
  });
});

describe('CameraStats', () => {
  it('reports rates over the interval and per-stage latency, then starts a new interval', () => {
    const s = new CameraStats();
    s.totals.captured = 20;
    for (let i = 0; i < 10; i++) s.recordProcessed({ capture: 1, preprocess: 2, inference: 10, postprocess: 0.5, total: 14 });
    const snap = s.snapshot(2);
    expect(snap.fps).toEqual({ captured: 10, processed: 5, dropped: 0 });
    expect(snap.latencyMs.inference.p50).toBe(10);
    expect(snap.totals.processed).toBe(10);
    const next = s.snapshot(2);
    expect(next.fps.processed).toBe(0);
    expect(next.latencyMs.total.count).toBe(0);
  });
});

describe('ThrottledLog', () => {
  it('logs the first problem, suppresses repeats, then reports how many were suppressed', () => {
    const lines: { suppressed?: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    let now = 0;
    const t = new ThrottledLog(log, 1000, () => now);
    t.warn('k', {}, 'bad frame');
    t.warn('k', {}, 'bad frame');
    t.warn('k', {}, 'bad frame');
    t.warn('other', {}, 'other problem');
    now = 1500;
    t.warn('k', {}, 'bad frame');
    expect(lines.map((l) => [l.msg, l.suppressed])).toEqual([
      ['bad frame', undefined],
      ['other problem', undefined],
      ['bad frame', 2],
    ]);
  });
});

describe('StatsReporter: the mqtt block', () => {
  it('says the broker is down, how and since when, while it refuses the login; and connected again after', async () => {
    const client = Object.assign(new EventEmitter(), { connected: false, options: {}, publish: () => undefined, subscribe: () => undefined, end: () => undefined });
    const outbox = await Outbox.open({ dir: null, maxMessages: 10, maxBytes: 1 << 20 }, silentLogger());
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const pub = new MqttPublisher(
      { url: 'mqtt://127.0.0.1:1', clientId: 'stats', username: 'u', password: 'p', keepaliveSec: 10, baseTopic: 'me-test/stats', outbox, tls: { ca: null, cert: null, key: null, rejectUnauthorized: true } },
      silentLogger(),
      { connect: () => client as unknown as MqttClient, now: () => now },
    );
    const stats = new StatsReporter({ device: 'd', backend: () => 'cpu', model: () => 'm', cameras: () => ({}), failovers: () => ({ failovers: 0, recoveries: 0 }), mqtt: () => pub.snapshot() });
    pub.start();
    expect(stats.collect().mqtt).toMatchObject({ connected: false, state: 'connecting', reason: null, downSince: '2026-01-01T00:00:00.000Z' });
    now += 5000;
    // What mqtt.js emits for a CONNACK with return code 5, then the socket closes.
    client.emit('error', Object.assign(new Error('Connection refused: Not authorized'), { code: 5 }));
    client.emit('close');
    expect(stats.collect().mqtt).toMatchObject({
      connected: false,
      state: 'refused',
      reason: "not authorised: check mqtt.username/password and the broker's ACL",
      downSince: '2026-01-01T00:00:00.000Z',
    });
    client.connected = true;
    client.emit('connect', { cmd: 'connack', returnCode: 0 });
    expect(stats.collect().mqtt).toMatchObject({ connected: true, state: 'connected', reason: null, downSince: null });
    stats.stop();
  });
});
