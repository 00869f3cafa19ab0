import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/index.js';
import { diffConfig } from '../../src/config/reload.js';

const cam = (fps: number, minScore: number) => ({
  name: 'x',
  enabled: true,
  source: { type: 'files', path: '/a', fps: 1, loop: true },
  detect: { fps },
  filters: { minScore, labels: [], perLabel: {}, maxResults: 20 },
});
const base = {
  device: { id: 'd' },
  log: { level: 'info' },
  cameras: { front: cam(5, 0.5) },
  detector: { backend: 'cpu', model: { cpu: '/m.tflite', edgetpu: null } },
  filters: { minScore: 0.5, labels: [], perLabel: {}, maxResults: 20 },
  mqtt: { url: 'mqtt://a', password: 's' },
  stats: { intervalSec: 60 },
} as unknown as AppConfig;

describe('diffConfig (SIGHUP)', () => {
  it('nothing changed: nothing to do', () => {
    expect(diffConfig(base, structuredClone(base))).toEqual({ live: [], restart: [] });
  });

  it('splits live keys (log level, filters, detect.fps, stats) from restart keys (broker, model, cameras)', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a loose copy to poke at nested keys
    const next = structuredClone(base) as unknown as Record<string, any>;
    next.log.level = 'debug';
    next.filters.minScore = 0.7;
    next.cameras.front.detect.fps = 2;
    next.cameras.front.filters.minScore = 0.7;
    next.stats.intervalSec = 10;
    next.mqtt.url = 'mqtt://b';
    next.detector.model.cpu = '/other.tflite';
    next.cameras.back = cam(1, 0.5);
    const d = diffConfig(base, next as unknown as AppConfig);
    expect(d.live).toEqual(['cameras.front.detect.fps', 'cameras.front.filters.minScore', 'filters.minScore', 'log.level', 'stats.intervalSec']);
    expect(d.restart).toEqual(['cameras.back', 'detector.model.cpu', 'mqtt.url']);
  });
});
