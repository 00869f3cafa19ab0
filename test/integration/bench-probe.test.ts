import mqtt from 'mqtt';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { DetectionsProbe, type ReceivedDetection } from '../../src/bench/detections-probe.js';
import { childPids } from '../../src/bench/proc-stat.js';

const URL = 'mqtt://127.0.0.1:1883';

describe("the bench's subscriber process", () => {
  it('receives detections in a process of its own and hands them over on flush, arrival times in our clock', async () => {
    const base = `mobilenet-edge-test/probe-${process.pid}-${Date.now()}`;
    const probe = await DetectionsProbe.connect(URL, base, `probe-test-${process.pid}`);
    expect(probe.pid).toBeDefined();
    expect(childPids()).toContain(probe.pid);
    const got: ReceivedDetection[] = [];
    probe.onDetection((d) => got.push(d));
    const pub = await mqtt.connectAsync(URL, { clientId: `probe-test-pub-${process.pid}` });
    const sentFrom = performance.now();
    for (let seq = 0; seq < 5; seq++) {
      await pub.publishAsync(`${base}/cam1/detections`, JSON.stringify({ seq, ts: new Date().toISOString(), backend: 'cpu', latencyMs: { inference: 3.5 } }), { qos: 1 });
    }
    await pub.publishAsync(`${base}/cam1/detections`, 'not json', { qos: 1 });
    await pub.publishAsync(`${base}/cam1/stats`, JSON.stringify({ seq: 99 }), { qos: 1 });
    // Nothing reaches this process until it asks.
    expect(got).toHaveLength(0);
    for (let i = 0; i < 100 && got.length < 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await probe.flush();
    }
    const sentTo = performance.now();
    expect(got.map((d) => d.seq)).toEqual([0, 1, 2, 3, 4]);
    for (const d of got) {
      expect(d).toMatchObject({ camera: 'cam1', backend: 'cpu', latencyMs: { inference: 3.5 } });
      expect(d.receivedAt).toBeGreaterThanOrEqual(sentFrom);
      expect(d.receivedAt).toBeLessThanOrEqual(sentTo);
    }
    expect(probe.received).toBe(5);
    await pub.endAsync();
    await probe.close();
    expect(childPids()).not.toContain(probe.pid);
  });
});
