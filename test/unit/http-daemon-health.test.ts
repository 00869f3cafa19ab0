import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { DaemonHealth } from '../../src/http/daemon-health.js';
import type { CameraPipeline } from '../../src/pipeline/camera-pipeline.js';
import type { PublisherCounters } from '../../src/publish/mqtt-publisher.js';

const counters = (over: Partial<PublisherCounters>): PublisherCounters => ({
  connected: true,
  state: 'connected',
  reason: null,
  downSince: null,
  published: 10,
  queued: 0,
  droppedOffline: 0,
  outbox: 'disk',
  outboxMemoryOnly: 0,
  outboxLost: 0,
  publishErrors: 0,
  reconnects: 0,
  ...over,
});

const REFUSED = counters({
  connected: false,
  state: 'refused',
  reason: "not authorised: check mqtt.username/password and the broker's ACL",
  downSince: '2026-01-01T00:00:00.000Z',
  queued: 17,
});

/** DaemonHealth over one camera (fresh or stale), a detector up or not and the given broker state. */
function health(mqtt: PublisherCounters, { fresh = true, detectorUp = true } = {}): DaemonHealth {
  const camera = { lastProcessedAt: fresh ? performance.now() : performance.now() - 60_000 } as CameraPipeline;
  return new DaemonHealth(
    () => new Map([['front', camera]]),
    () => detectorUp,
    () => 1,
    () => mqtt,
  );
}

describe('DaemonHealth', () => {
  it('ok while detecting and connected', () => {
    expect(health(counters({})).health()).toEqual({ status: 'ok', reasons: [], mqtt: { state: 'connected', reason: null, downSince: null, queued: 0 } });
  });

  it('degraded, not unhealthy, while the broker refuses: detections wait in the outbox, and it says why', () => {
    const h = health(REFUSED).health();
    expect(h.status).toBe('degraded');
    expect(h.reasons).toEqual([
      "mqtt refused (not authorised: check mqtt.username/password and the broker's ACL) since 2026-01-01T00:00:00.000Z; 17 message(s) wait in the outbox",
    ]);
    expect(h.mqtt).toEqual({ state: 'refused', reason: REFUSED.reason, downSince: REFUSED.downSince, queued: 17 });
  });

  it('degraded before the first connect too: nothing is published yet', () => {
    const h = health(counters({ connected: false, state: 'connecting', downSince: '2026-01-01T00:00:00.000Z' })).health();
    expect(h.status).toBe('degraded');
    expect(h.reasons).toEqual(['mqtt connecting since 2026-01-01T00:00:00.000Z; 0 message(s) wait in the outbox']);
  });

  it('unhealthy when not detecting, with the broker reason beside the others', () => {
    const h = health(REFUSED, { fresh: false, detectorUp: false }).health();
    expect(h.status).toBe('unhealthy');
    expect(h.reasons).toHaveLength(3);
    expect(h.reasons[0]).toBe('no detector is answering');
    expect(h.reasons[1]).toMatch(/^camera front: no frame processed for \d+ s$/);
    expect(h.reasons[2]).toMatch(/^mqtt refused/);
  });

  it('a camera whose detection is paused (detect/set OFF) is not stale; after resuming it is judged from the resume on', () => {
    const long = performance.now() - 60_000;
    const camera = { lastProcessedAt: long, detecting: false } as CameraPipeline;
    const h = new DaemonHealth(() => new Map([['front', camera]]), () => true, () => 1, () => counters({}));
    expect(h.health().status).toBe('ok');
    Object.assign(camera, { detecting: true, resumedAt: performance.now() });
    expect(h.health().status).toBe('ok');
    Object.assign(camera, { resumedAt: long });
    expect(h.health().status).toBe('unhealthy');
  });
});
