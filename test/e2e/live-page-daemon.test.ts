import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { uniquePrefix } from '../helpers/mqtt.js';
import { image, SSD_V1 } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';

describe('the live page of a running daemon', () => {
  it('serves each camera\'s latest annotated frame with snapshots off, and live numbers before any stats interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-live-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        device: { id: 'live' },
        cameras: {
          cats: { source: { type: 'files', path: image('cats_and_dogs.jpg'), fps: 4 } },
          hopper: { source: { type: 'files', path: image('grace_hopper.bmp'), fps: 4 } },
        },
        detector: { backend: 'cpu', model: { cpu: SSD_V1 } },
        snapshots: { enabled: false, maxWidth: 320 },
        http: { enabled: true, port: 0 },
        mqtt: { topicPrefix: uniquePrefix('live'), outbox: { dir: null } },
        stats: { intervalSec: 3600 }, // no interval closes during the test: the page must not need one
      }),
    );
    const daemon = spawnCli(['run', '--config', config]);
    try {
      await until(() => daemon.output().stdout.includes('HTTP endpoint'), 30_000, 'the HTTP endpoint');
      const url = JSON.parse(daemon.output().stdout.split('\n').find((l) => l.includes('HTTP endpoint'))!).url as string;
      type Live = { cameras: Record<string, { state: string; totals: { processed: number }; recent: { inferenceMs: number | null } }> };
      let live: Live | undefined;
      await until(async () => {
        live = (await (await fetch(`${url}api/live`)).json()) as Live;
        return Object.values(live.cameras).every((c) => c.totals.processed > 0 && typeof c.recent.inferenceMs === 'number');
      }, 30_000, 'both cameras processing, with a recent inference time');
      expect(Object.keys(live!.cameras).sort()).toEqual(['cats', 'hopper']);
      expect((await fetch(`${url}api/stats`)).status).toBe(204); // no stats interval yet, and the live numbers are there

      for (const camera of ['cats', 'hopper']) {
        const r = await fetch(`${url}snapshot.jpg?camera=${camera}`);
        expect(r.status, camera).toBe(200); // before: 404 until an event's snapshot, and never with snapshots off
        expect(r.headers.get('content-type')).toBe('image/jpeg');
        expect(decodeURIComponent(r.headers.get('x-camera')!)).toBe(camera);
        const jpeg = Buffer.from(await r.arrayBuffer());
        expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      }
      expect((await fetch(`${url}snapshot.jpg?camera=nosuch`)).status).toBe(404);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, 10_000)).toEqual({ code: 0, signal: null });
  }, 90_000);
});
