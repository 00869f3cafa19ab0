import { describe, expect, it } from 'vitest';
import { CameraStats } from '../../src/stats/camera-stats.js';
import { LatencyWindow } from '../../src/stats/latency-window.js';
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
