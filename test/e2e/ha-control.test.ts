import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeId } from '../../src/homeassistant/discovery.js';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, clearRetained, uniquePrefix, type Received } from '../helpers/mqtt.js';
import { SSD_V1, V1_025, image } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';

/*
 * Home Assistant and MQTT control through the daemon as users run it (the CLI, a files camera, the shared mosquitto
 * on 127.0.0.1:1883 under prefixes of this run). Every wait is for a message or a log line; the only bounds are
 * generous timeouts for a loaded machine.
 */

const text = (m: Received): string => m.payload.toString();
const retainedTopics = new Set<string>();
afterAll(() => clearRetained([...retainedTopics]));

function config(dir: string, body: Record<string, unknown>): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(body));
  return file;
}

/** The retained messages under `filter` right now, as a fresh subscriber receives them. */
async function retainedNow(filter: string): Promise<Map<string, string>> {
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { reconnectPeriod: 0 });
  const seen = new Map<string, string>();
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) seen.set(topic, payload.toString());
  });
  await client.subscribeAsync(filter, { qos: 1 });
  // A marker published after subscribing comes back after the retained ones (one connection, handled in order).
  const marker = `${filter.replace(/[#+]/g, 'x')}/marker-${Math.random()}`;
  const done = new Promise<void>((resolve) => client.on('message', (topic) => topic === marker && resolve()));
  await client.subscribeAsync(marker, { qos: 1 });
  await client.publishAsync(marker, 'm', { qos: 1 });
  await done;
  await client.endAsync();
  return seen;
}

async function send(topic: string, payload: string): Promise<void> {
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { reconnectPeriod: 0 });
  await client.publishAsync(topic, payload, { qos: 1 });
  await client.endAsync();
}

const logLines = (out: string): Record<string, unknown>[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const running = (daemon: ReturnType<typeof spawnCli>): Promise<void> => until(() => daemon.output().stdout.includes('"msg":"mobilenet-edge running"'), 60_000, 'the daemon to run');

async function stop(daemon: ReturnType<typeof spawnCli>): Promise<void> {
  if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGTERM');
  await waitExit(daemon, 15_000);
}

describe('MQTT control of a camera through the daemon', () => {
  it('detect/set OFF stops detections within a few frames and ON resumes them; the state is retained; a bad payload warns once and changes nothing; take-snapshot publishes one', async () => {
    const prefix = uniquePrefix('ctl');
    const ha = uniquePrefix('ctlha');
    const base = `${prefix}/ctl`;
    const dir = mkdtempSync(join(tmpdir(), 'me-ctl-'));
    const file = config(dir, {
      device: { id: 'ctl' },
      // A classifier: detections on every frame, but no boxes, so no event and no snapshot unless one is asked for.
      cameras: { cam: { source: { type: 'files', path: image('cat.bmp'), fps: 10, loop: true }, detect: { fps: 0 } } },
      detector: { backend: 'cpu', model: { cpu: V1_025 } },
      filters: { minScore: 0, maxResults: 1 },
      homeassistant: { enabled: true, discoveryPrefix: ha },
      mqtt: { topicPrefix: prefix },
      stats: { intervalSec: 1 },
    });
    const sub = await Subscriber.connect(`${prefix}/#`);
    const haSub = await Subscriber.connect(`${ha}/#`);
    const daemon = spawnCli(['run', '--config', file]);
    const detections = () => sub.on(`${base}/cam/detections`).length;
    // The state as it changed (a reconnect re-sends it: a repeat is no change).
    const states = () => sub.on(`${base}/cam/detect/state`).map(text).filter((v, i, all) => i === 0 || v !== all[i - 1]);
    const captured = () => sub.on(`${base}/stats`).map((m) => JSON.parse(text(m)).cameras?.cam?.totals?.captured as number).at(-1) ?? 0;
    try {
      await sub.waitFor((m) => m.topic === `${base}/cam/detect/state` && text(m) === 'ON', 60_000, 'detect/state ON at start');
      await sub.waitFor((m) => m.topic === `${base}/cam/status` && JSON.parse(text(m)).state === 'online', 60_000, 'the files camera online');
      await until(() => detections() >= 3, 60_000, 'detections');

      // Home Assistant gets a switch and a button on these same topics.
      const node = nodeId(prefix, 'ctl');
      const sw = await haSub.waitFor((m) => m.topic === `${ha}/switch/${node}/cam_detect/config`, 30_000, 'the detect switch');
      expect(JSON.parse(text(sw))).toMatchObject({ command_topic: `${base}/cam/detect/set`, state_topic: `${base}/cam/detect/state` });
      const button = await haSub.waitFor((m) => m.topic === `${ha}/button/${node}/cam_take_snapshot/config`, 30_000, 'the snapshot button');
      expect(JSON.parse(text(button))).toMatchObject({ command_topic: `${base}/cam/snapshot/set`, payload_press: 'PRESS' });

      // OFF: detections stop (at most what was in flight), capture goes on.
      await send(`${base}/cam/detect/set`, 'OFF');
      await sub.waitFor((m) => m.topic === `${base}/cam/detect/state` && text(m) === 'OFF', 30_000, 'detect/state OFF');
      const atOff = detections();
      const capturedAtOff = captured();
      await until(() => captured() >= capturedAtOff + 10, 60_000, 'ten more frames captured while paused');
      const afterOff = detections() - atOff;
      console.log(`[figures] detect OFF: ${afterOff} detection message(s) after detect/state OFF, over ${captured() - capturedAtOff} frames captured`);
      expect(afterOff).toBeLessThanOrEqual(2);
      expect((await retainedNow(`${base}/cam/detect/state`)).get(`${base}/cam/detect/state`)).toBe('OFF');

      // A bad payload: one warning naming topic and payload, no change.
      await send(`${base}/cam/detect/set`, 'MAYBE');
      await until(() => daemon.output().stdout.includes('MAYBE'), 30_000, 'the warning about MAYBE');
      const warnings = logLines(daemon.output().stdout).filter((l) => l.level === 40 && String(l.msg).includes(`${base}/cam/detect/set`));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ topic: `${base}/cam/detect/set`, payload: 'MAYBE' });

      // ON: detections come back; detect/state went ON, OFF, ON and nothing else (MAYBE changed nothing).
      await send(`${base}/cam/detect/set`, 'ON');
      await sub.waitFor((m) => m.topic === `${base}/cam/detect/state` && text(m) === 'ON' && states().length >= 3, 30_000, 'detect/state ON again');
      expect(states()).toEqual(['ON', 'OFF', 'ON']);
      const atOn = detections();
      await until(() => detections() >= atOn + 3, 60_000, 'detections after ON');

      // Take snapshot: no event ever made one (a classifier has no boxes); PRESS does.
      expect(sub.on(`${base}/cam/snapshot`)).toEqual([]);
      await send(`${base}/cam/snapshot/set`, 'PRESS');
      const snap = await sub.waitFor((m) => m.topic === `${base}/cam/snapshot`, 30_000, 'the snapshot');
      expect(snap.payload.subarray(0, 2).equals(Buffer.from([0xff, 0xd8]))).toBe(true);
    } finally {
      await stop(daemon);
      for (const m of [...sub.messages, ...haSub.messages]) retainedTopics.add(m.topic);
      await sub.close();
      await haSub.close();
    }
  }, 180_000);

  it('detection switched off stays off across a restart (state directory), and the retained state says so', async () => {
    const prefix = uniquePrefix('keep');
    const base = `${prefix}/keep`;
    const dir = mkdtempSync(join(tmpdir(), 'me-keep-'));
    const state = join(dir, 'state');
    mkdirSync(state);
    const file = config(dir, {
      device: { id: 'keep' },
      cameras: { cam: { source: { type: 'files', path: image('cat.bmp'), fps: 10, loop: true }, detect: { fps: 0 } } },
      detector: { backend: 'cpu', model: { cpu: V1_025 } },
      filters: { minScore: 0, maxResults: 1 },
      mqtt: { topicPrefix: prefix },
      stats: { intervalSec: 1 },
    });
    const env = { MOBILENET_EDGE_STATE_DIR: state };
    const sub = await Subscriber.connect(`${prefix}/#`);
    const first = spawnCli(['run', '--config', file], env);
    try {
      await sub.waitFor((m) => m.topic === `${base}/cam/detect/state` && text(m) === 'ON', 60_000, 'detect/state ON');
      await send(`${base}/cam/detect/set`, 'OFF');
      await sub.waitFor((m) => m.topic === `${base}/cam/detect/state` && text(m) === 'OFF', 30_000, 'detect/state OFF');
    } finally {
      await stop(first);
    }
    expect(JSON.parse(readFileSync(join(state, 'detect.json'), 'utf8'))).toEqual({ v: 1, cameras: { cam: false } });

    const before = sub.messages.length;
    const second = spawnCli(['run', '--config', file], env);
    const since = () => sub.messages.slice(before);
    try {
      await running(second);
      await until(() => since().filter((m) => m.topic === `${base}/stats`).some((m) => JSON.parse(text(m)).cameras.cam.totals.captured >= 10), 60_000, 'ten frames captured after the restart');
      expect(since().filter((m) => m.topic === `${base}/cam/detections`)).toEqual([]);
      expect(since().filter((m) => m.topic === `${base}/cam/detect/state`).map(text)).toEqual(['OFF']);
      await send(`${base}/cam/detect/set`, 'ON');
      await until(() => since().some((m) => m.topic === `${base}/cam/detections`), 60_000, 'detections after ON');
    } finally {
      await stop(second);
      for (const m of sub.messages) retainedTopics.add(m.topic);
      await sub.close();
    }
  }, 180_000);
});

describe('Home Assistant entities and counts a previous run left', () => {
  it('clears the discovery configs of a label, a camera and a feature removed from the config, at the next start', async () => {
    const prefix = uniquePrefix('rm');
    const ha = uniquePrefix('rmha');
    const dir = mkdtempSync(join(tmpdir(), 'me-rm-'));
    const camera = { source: { type: 'files', path: image('cat.bmp'), fps: 2, loop: true }, detect: { fps: 0 } };
    const common = { device: { id: 'rm' }, detector: { backend: 'cpu', model: { cpu: V1_025 } }, homeassistant: { enabled: true, discoveryPrefix: ha }, mqtt: { topicPrefix: prefix } };
    const node = nodeId(prefix, 'rm');
    const ours = `${ha}/+/${node}/+/config`;

    const first = spawnCli(['run', '--config', config(dir, { ...common, cameras: { cam: camera, old: camera }, events: { labels: ['person', 'dog'] } })]);
    let announced: Map<string, string>;
    try {
      await until(() => first.output().stdout.includes('Home Assistant discovery published'), 60_000, 'discovery');
      await until(async () => (announced = await retainedNow(ours)).size > 0 && [...announced.keys()].some((t) => t.includes('/old_')), 30_000, 'the configs retained');
    } finally {
      await stop(first);
    }
    expect([...announced!.keys()]).toEqual(expect.arrayContaining([`${ha}/sensor/${node}/cam_dog_count/config`, `${ha}/image/${node}/cam_snapshot/config`]));

    // The dog label, the `old` camera and snapshots are gone from the config.
    const second = spawnCli(['run', '--config', config(dir, { ...common, cameras: { cam: camera }, events: { labels: ['person'] }, snapshots: { enabled: false } })]);
    try {
      await until(() => logLines(second.output().stdout).filter((l) => l.msg === 'Home Assistant entity removed: no longer in the config').length > 0, 60_000, 'removals');
      const expected = ['sensor/cam_fps', 'switch/cam_detect', 'binary_sensor/cam_occupancy', 'event/cam_object', 'sensor/cam_person_count', 'sensor/inference_ms', 'sensor/detector_backend', 'sensor/detection_model'];
      const left = () => retainedNow(ours).then((m) => [...m.keys()].map((t) => t.split('/').slice(-4).filter((_, i) => i !== 1).slice(0, 2).join('/')).sort());
      await until(async () => JSON.stringify(await left()) === JSON.stringify([...expected].sort()), 30_000, 'only the current entities retained');
      const removed = logLines(second.output().stdout).filter((l) => l.msg === 'Home Assistant entity removed: no longer in the config').map((l) => l.topic as string);
      expect(removed).toEqual(expect.arrayContaining([`${ha}/sensor/${node}/cam_dog_count/config`, `${ha}/image/${node}/cam_snapshot/config`, `${ha}/button/${node}/cam_take_snapshot/config`, `${ha}/switch/${node}/old_detect/config`]));
    } finally {
      await stop(second);
      for (const t of announced!.keys()) retainedTopics.add(t);
      retainedTopics.add(`${prefix}/rm/availability`).add(`${prefix}/rm/cam/status`).add(`${prefix}/rm/old/status`).add(`${prefix}/rm/cam/detect/state`).add(`${prefix}/rm/old/detect/state`);
      for (const l of ['person', 'dog']) retainedTopics.add(`${prefix}/rm/cam/count/${l}`).add(`${prefix}/rm/old/count/${l}`);
      retainedTopics.add(`${prefix}/rm/cam/occupancy`).add(`${prefix}/rm/old/occupancy`).add(`${prefix}/rm/detector`).add(`${prefix}/rm/stats`);
    }
  }, 180_000);

  it('after SIGKILL, the next start sets counts and occupancy of labels seen at run time back to 0/OFF', async () => {
    const prefix = uniquePrefix('kill');
    const base = `${prefix}/kill`;
    const dir = mkdtempSync(join(tmpdir(), 'me-kill-'));
    const cats = join(dir, 'cats');
    const flowers = join(dir, 'flowers');
    mkdirSync(cats);
    mkdirSync(flowers);
    copyFileSync(image('cats_and_dogs.jpg'), join(cats, 'a.jpg'));
    copyFileSync(image('sunflower.bmp'), join(flowers, 'a.bmp'));
    // The second run must see nothing, or its own detections turn occupancy back ON before the zeroing can be seen:
    // the SSD finds a "teddy bear" (0.61) in the sunflower, so that run keeps only persons, and there are none.
    const body = (path: string, keep: string[] = []) => ({
      device: { id: 'kill' },
      cameras: { cam: { source: { type: 'files', path, fps: 2, loop: true }, detect: { fps: 0 }, zones: { floor: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]] } } },
      detector: { backend: 'cpu', model: { cpu: SSD_V1 } },
      events: { labels: ['person'], minHits: 1 }, // `cat` is counted only because it is seen
      mqtt: { topicPrefix: prefix },
      ...(keep.length > 0 ? { filters: { labels: keep } } : {}),
    });
    const sub = await Subscriber.connect(`${prefix}/#`);
    const first = spawnCli(['run', '--config', config(dir, body(cats))]);
    try {
      await sub.waitFor((m) => m.topic === `${base}/cam/count/cat` && Number(text(m)) >= 1, 90_000, 'cats counted');
      await sub.waitFor((m) => m.topic === `${base}/cam/zones/floor/cat` && Number(text(m)) >= 1, 30_000, 'cats in the zone');
      await sub.waitFor((m) => m.topic === `${base}/cam/occupancy` && text(m) === 'ON', 30_000, 'occupancy ON');
    } finally {
      first.kill('SIGKILL');
      await waitExit(first, 10_000);
    }
    await sub.waitFor((m) => m.topic === `${base}/availability` && text(m) === 'offline', 30_000, 'the last will');
    const left = await retainedNow(`${base}/#`);
    console.log(`[figures] after SIGKILL: count/cat=${left.get(`${base}/cam/count/cat`)} zones/floor/cat=${left.get(`${base}/cam/zones/floor/cat`)} occupancy=${left.get(`${base}/cam/occupancy`)}`);
    expect(Number(left.get(`${base}/cam/count/cat`))).toBeGreaterThanOrEqual(1); // what a crash leaves: the fault this guards against

    const second = spawnCli(['run', '--config', config(dir, body(flowers, ['person']))]);
    try {
      await running(second);
      const zeroed = (now: Map<string, string>): boolean =>
        now.get(`${base}/cam/count/cat`) === '0' && now.get(`${base}/cam/zones/floor/cat`) === '0' && now.get(`${base}/cam/occupancy`) === 'OFF';
      await until(async () => zeroed(await retainedNow(`${base}/#`)), 60_000, 'count/cat 0, zones/floor/cat 0 and occupancy OFF retained');
      // And it stays so while the second run detects: frames were looked at, nothing turned it back.
      await sub.waitFor((m) => m.topic === `${base}/cam/detections` && JSON.parse(text(m)).seq >= 3, 60_000, 'the second run detecting');
      const after = await retainedNow(`${base}/#`);
      expect(zeroed(after), JSON.stringify(Object.fromEntries([...after].filter(([t]) => /count|occupancy/.test(t))))).toBe(true);
    } finally {
      await stop(second);
      for (const m of sub.messages) retainedTopics.add(m.topic);
      await sub.close();
    }
  }, 240_000);
});
