import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, uniquePrefix } from '../helpers/mqtt.js';
import { IMAGES, ROOT, SSD_V1 } from '../helpers/paths.js';

/**
 * The demo must show what the daemon is for: each photo stays in view for a few frames (source.repeat), so objects
 * are tracked, events start and end, counts go up and back to 0, and snapshots are published, within seconds. The
 * shipped config/demo.json is run as is, with only the photo folder, the model and the topic prefix pointed here.
 */
describe('the demo', () => {
  it('shows events, counts and snapshots within seconds', async () => {
    const demo = JSON.parse(readFileSync(join(ROOT, 'config', 'demo.json'), 'utf8')) as {
      cameras: { demo: { source: { path: string } } };
      detector: { model: { cpu: string } };
      mqtt: Record<string, unknown>;
      log: { level: string };
    };
    const prefix = uniquePrefix('demo');
    demo.cameras.demo.source.path = IMAGES;
    demo.detector.model.cpu = SSD_V1;
    demo.mqtt = { ...demo.mqtt, topicPrefix: prefix, outbox: { dir: null } };
    demo.log.level = 'info';
    const file = join(mkdtempSync(join(tmpdir(), 'me-demo-')), 'demo.json');
    writeFileSync(file, JSON.stringify(demo));

    const sub = await Subscriber.connect(`${prefix}/demo/demo/#`);
    const daemon = spawnCli(['run', '--config', file]);
    try {
      const event = await sub.waitFor((m) => m.topic.endsWith('/events') && JSON.parse(m.payload.toString()).type === 'new', 60_000, 'a new event');
      const { label } = JSON.parse(event.payload.toString()) as { label: string };
      await sub.waitFor((m) => m.topic.endsWith('/snapshot') && m.payload.subarray(0, 2).equals(Buffer.from([0xff, 0xd8])), 30_000, 'a JPEG snapshot');
      await sub.waitFor((m) => m.topic === `${prefix}/demo/demo/count/${label}` && Number(m.payload.toString()) > 0, 30_000, `a ${label} count above 0`);
      // The photo changes: the object leaves, its event ends.
      await sub.waitFor((m) => m.topic.endsWith('/events') && JSON.parse(m.payload.toString()).type === 'end', 60_000, 'an event ending');
    } finally {
      daemon.kill('SIGTERM');
      await sub.close();
    }
    expect(await waitExit(daemon, 10_000)).toEqual({ code: 0, signal: null });
  }, 180_000);
});
