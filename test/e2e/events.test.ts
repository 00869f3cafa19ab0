import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, clearRetained, uniquePrefix, type Received } from '../helpers/mqtt.js';
import { INFERENCE_TIMEOUT_MS, NEXT_MS, START_MS, STOP_MS } from '../helpers/budgets.js';
import { SSD_V1, image } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';

const text = (m: Received): string => m.payload.toString();

describe('events, counts, snapshots, Home Assistant discovery and the HTTP endpoint, through the daemon', () => {
  const prefix = uniquePrefix('ev');
  const ha = uniquePrefix('ha');
  const base = `${prefix}/evd`;
  const retained: string[] = [];
  afterAll(() => clearRetained(retained));

  it('a cat appears, is counted and snapshotted, discovery announces the entities, health turns 503 when frames stop, and a stop zeroes the counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-events-'));
    const frames = join(dir, 'frames');
    mkdirSync(frames);
    for (let i = 0; i < 4; i++) copyFileSync(image('cats_and_dogs.jpg'), join(frames, `f${i}.jpg`));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        device: { id: 'evd' },
        // fps 0: each file when the pipeline is ready for it, so all four are seen however slow the machine (a timed
        // source drops frames when inference falls behind, and the event needs two hits).
        cameras: { cam: { source: { type: 'files', path: frames, fps: 0, loop: false }, detect: { fps: 0 }, zones: { floor: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]] } } },
        detector: { backend: 'cpu', model: { cpu: SSD_V1 }, inferenceTimeoutMs: INFERENCE_TIMEOUT_MS },
        events: { labels: ['cat', 'dog', 'person'], minHits: 2 },
        homeassistant: { enabled: true, discoveryPrefix: ha },
        http: { enabled: true, port: 0 },
        mqtt: { topicPrefix: prefix, clientId: `${prefix}-daemon` }, // the broker is shared: a client id of its own
        stats: { intervalSec: 1 },
      }),
    );
    const sub = await Subscriber.connect(`${prefix}/#`);
    const haSub = await Subscriber.connect(`${ha}/#`);
    const daemon = spawnCli(['run', '--config', config]);
    try {
      // Start-up: the listed labels are zeroed, whatever a previous run left.
      await sub.waitFor((m) => m.topic === `${base}/cam/count/person` && text(m) === '0', START_MS, 'person count zeroed at start');
      const ev = await sub.waitFor((m) => m.topic === `${base}/cam/events` && JSON.parse(text(m)).type === 'new' && JSON.parse(text(m)).label === 'cat', NEXT_MS, 'a new cat event');
      const event = JSON.parse(text(ev));
      expect(event).toMatchObject({ v: 1, camera: 'cam', label: 'cat', event_type: 'new' });
      expect(event.id).toMatch(/^cam-/);
      expect(event.zones).toEqual(['floor']); // the cats lie in the lower half
      await sub.waitFor((m) => m.topic === `${base}/cam/count/cat` && Number(text(m)) >= 1, NEXT_MS, 'cat count');
      await sub.waitFor((m) => m.topic === `${base}/cam/occupancy` && text(m) === 'ON', NEXT_MS, 'occupancy ON');
      await sub.waitFor((m) => m.topic === `${base}/cam/zones/floor/cat` && Number(text(m)) >= 1, NEXT_MS, 'per-zone count');
      const snap = await sub.waitFor((m) => m.topic === `${base}/cam/snapshot`, NEXT_MS, 'snapshot');
      expect(snap.payload.subarray(0, 2).equals(Buffer.from([0xff, 0xd8]))).toBe(true);

      const discovery = haSub.messages.map((m) => m.topic);
      expect(discovery.some((t) => t.startsWith(`${ha}/sensor/`) && t.includes('cat') && t.endsWith('/config'))).toBe(true);
      expect(discovery.some((t) => t.startsWith(`${ha}/binary_sensor/`))).toBe(true);
      expect(discovery.some((t) => t.startsWith(`${ha}/image/`))).toBe(true);
      retained.push(...discovery, `${base}/availability`, `${base}/stats`, `${base}/detector`, `${base}/cam/status`, `${base}/cam/snapshot`);

      const url = JSON.parse(daemon.output().stdout.split('\n').find((l) => l.includes('HTTP endpoint'))!).url as string;
      const metrics = await (await fetch(`${url}metrics`)).text();
      expect(metrics).toMatch(/mobilenet_edge_inference_seconds_bucket\{[^}]*backend="cpu"/);
      // Four frames and the camera ends: /healthz turns 503 and says why.
      await until(async () => (await fetch(`${url}healthz`)).status === 503, NEXT_MS, '/healthz 503');
      const body = (await (await fetch(`${url}healthz`)).json()) as { reasons: string[] };
      expect(body.reasons.join(' ')).toMatch(/camera cam: no frame processed/);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
    await sub.waitFor((m) => m.topic === `${base}/cam/events` && JSON.parse(text(m)).type === 'end', NEXT_MS, 'end events at stop');
    await sub.waitFor((m) => m.topic === `${base}/cam/occupancy` && text(m) === 'OFF', NEXT_MS, 'occupancy OFF at stop');
    const lastCat = sub.on(`${base}/cam/count/cat`).at(-1)!;
    expect(text(lastCat)).toBe('0');
    retained.push(...new Set(sub.messages.filter((m) => /\/cam\/(count\/|person|occupancy|detect\/|zones\/)/.test(m.topic)).map((m) => m.topic)));
    await sub.close();
    await haSub.close();
  }, START_MS + 7 * NEXT_MS + STOP_MS);
});
