import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { TestBroker, freePort } from '../helpers/broker.js';
import { spawnCli, waitExit } from '../helpers/cli.js';
import { INFERENCE_TIMEOUT_MS, NEXT_MS, START_MS, STOP_MS } from '../helpers/budgets.js';
import { V1_025, image } from '../helpers/paths.js';
import { sleep, until } from '../helpers/wait.js';

/** A client id of its own for each daemon: the broker on 1883 is shared, and a second client with an id takes its session. */
const clientId = (name: string): string => `${name}-${process.pid}-${Date.now().toString(36)}`;

/** A daemon config: a classifier on a looping photo, fast enough to publish many detections. */
function writeConfig(dir: string, brokerUrl: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      device: { id: 'life' },
      cameras: { cam: { source: { type: 'files', path: image('cat.bmp'), fps: 20 }, detect: { fps: 0 } } },
      detector: { backend: 'cpu', model: { cpu: V1_025 }, inferenceTimeoutMs: INFERENCE_TIMEOUT_MS },
      filters: { minScore: 0, maxResults: 1 },
      mqtt: { url: brokerUrl, topicPrefix: 'life', clientId: clientId('life'), outbox: { dir: join(dir, 'outbox') } },
      stats: { intervalSec: 1 },
      ...extra,
    }),
  );
  return file;
}

/** A broker that keeps sessions across its own restarts, so a persistent subscriber misses nothing. */
function persistentBroker(dir: string, port: number): TestBroker {
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\nuser root\n`);
  return new TestBroker(port, conf);
}

interface Detection {
  seq: number;
  ts: string;
}

/** A subscriber with a persistent session (QoS 1): the broker queues for it while it is away. */
async function durableSubscriber(url: string) {
  const seen: Detection[] = [];
  const client = await mqtt.connectAsync(url, { clientId: `life-sub-${process.pid}`, clean: false, reconnectPeriod: 200 });
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/detections')) seen.push(JSON.parse(payload.toString()) as Detection);
  });
  await client.subscribeAsync('life/life/cam/detections', { qos: 1 });
  return { seen, close: () => client.endAsync() };
}

/** A unix datagram socket standing in for systemd's NOTIFY_SOCKET, or undefined (test skipped) without unix-dgram. */
function notifyReceiver(dir: string): { socket: string; received: string[]; receiver: { close(): void } } | undefined {
  let unixDgram: { createSocket(t: 'unix_dgram'): { bind(p: string): void; on(e: 'message', cb: (b: Buffer) => void): void; close(): void } };
  try {
    unixDgram = createRequire(import.meta.url)('unix-dgram');
  } catch {
    console.warn('skipped: the optional package unix-dgram did not build here');
    return undefined;
  }
  const socket = join(dir, 'notify');
  const received: string[] = [];
  const receiver = unixDgram.createSocket('unix_dgram');
  receiver.on('message', (b) => received.push(b.toString()));
  receiver.bind(socket);
  return { socket, received, receiver };
}

describe('daemon lifecycle: systemd notify and the durable outbox', () => {
  it('tells systemd READY=1, pings WATCHDOG=1 while frames flow, and STOPPING=1 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-notify-'));
    const notify = notifyReceiver(dir);
    if (!notify) return;
    const { socket, received, receiver } = notify;
    const daemon = spawnCli(['run', '--config', writeConfig(dir, 'mqtt://127.0.0.1:1883')], { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '1000000' });
    try {
      await until(() => received.some((m) => m.startsWith('WATCHDOG=1')), START_MS, 'a watchdog ping');
      expect(received[0]).toMatch(/^STATUS=running; waiting for the first frame/);
      const readyAt = received.findIndex((m) => m.startsWith('READY=1'));
      expect(received[readyAt]).toMatch(/^READY=1\nSTATUS=1 camera\(s\), [1-9]\d* frames processed/);
      expect(readyAt).toBeLessThan(received.findIndex((m) => m.startsWith('WATCHDOG=1')));
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
    await until(() => received.some((m) => m.startsWith('STOPPING=1')), NEXT_MS, 'STOPPING=1');
    receiver.close();
  }, START_MS + STOP_MS + NEXT_MS);

  it('a folder of pictures (fps 0, no loop): every image once, then the watchdog goes on pinging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-folder-'));
    const notify = notifyReceiver(dir);
    if (!notify) return;
    const { socket, received, receiver } = notify;
    const seen: Detection[] = [];
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    client.on('message', (_topic, payload) => seen.push(JSON.parse(payload.toString()) as Detection));
    await client.subscribeAsync('folder/life/cam/detections', { qos: 1 });
    const config = writeConfig(dir, 'mqtt://127.0.0.1:1883', {
      mqtt: { url: 'mqtt://127.0.0.1:1883', topicPrefix: 'folder', clientId: clientId('folder'), outbox: { dir: join(dir, 'outbox') } },
      cameras: { cam: { source: { type: 'files', path: image('*.bmp'), fps: 0, loop: false }, detect: { fps: 0 } } },
    });
    // A 1 s watchdog: pings every 0.5 s, a camera counts as stuck after 0.5 s of frames with none finished.
    const daemon = spawnCli(['run', '--config', config], { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '1000000' });
    try {
      await until(() => daemon.output().stdout.includes('camera source ended'), START_MS, 'the end of the list');
      await until(() => seen.length >= 5, NEXT_MS, 'the detections');
      expect(seen.map((d) => d.seq)).toEqual([0, 1, 2, 3, 4]); // bird, cat, dragonfly, grace_hopper, sunflower
      // Every frame is finished and no frame comes any more: a camera that has played its list is not stuck, so the
      // pings go on. Waited for, not counted over a fixed sleep (pings come late on a loaded machine); a daemon that
      // took the end for a stall withholds them, and the wait fails. (While frames still flowed, a loaded machine
      // may hold one longer than this 1 s watchdog's 0.25 s grace: only what is logged after the end counts.)
      const pings = (): number => received.filter((m) => m.startsWith('WATCHDOG=1')).length;
      const pingsAtEnd = pings();
      const logAtEnd = daemon.output().stdout.length;
      await until(() => pings() >= pingsAtEnd + 4, NEXT_MS, '4 more watchdog pings after the end');
      expect(daemon.output().stdout.slice(logAtEnd)).not.toMatch(/withholding WATCHDOG=1/);
    } finally {
      daemon.kill('SIGTERM');
      await client.endAsync();
      receiver.close();
    }
    expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
  }, START_MS + 2 * NEXT_MS + STOP_MS);

  it('detector.threads 0: measured at the first start, kept in the state directory, reused at the next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-threads-'));
    const state = join(dir, 'state');
    const config = writeConfig(dir, 'mqtt://127.0.0.1:1883', {
      detector: { backend: 'cpu', model: { cpu: V1_025 }, threads: 0, inferenceTimeoutMs: INFERENCE_TIMEOUT_MS },
      mqtt: { url: 'mqtt://127.0.0.1:1883', topicPrefix: 'threads', clientId: clientId('threads'), outbox: { dir: null } },
    });
    const runOnce = async (): Promise<string> => {
      const daemon = spawnCli(['run', '--config', config], { MOBILENET_EDGE_STATE_DIR: state });
      try {
        // Measuring runs the model in a host per candidate thread count before the daemon can start.
        await until(() => /"msg":"stats"/.test(daemon.output().stdout), 2 * START_MS, 'frames through the detector');
      } finally {
        daemon.kill('SIGTERM');
      }
      expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
      return daemon.output().stdout;
    };
    const first = await runOnce();
    expect(first).toMatch(/CPU threads: measuring the fastest count/);
    const kept = JSON.parse(readFileSync(join(state, 'cpu-threads.json'), 'utf8')) as Record<string, { threads: number; points: unknown[] }>;
    const [entry] = Object.values(kept);
    expect(entry!.points.length).toBeGreaterThanOrEqual(1);
    const second = await runOnce();
    expect(second).toMatch(new RegExp(`"threads":${entry!.threads},.*CPU threads: using the count measured for this model and machine`));
    expect(second).not.toMatch(/measuring the fastest/);
  }, 2 * (2 * START_MS + STOP_MS));

  it('broker stopped mid-stream: every detection arrives afterwards, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-outage-'));
    const broker = persistentBroker(dir, await freePort());
    await broker.start();
    const sub = await durableSubscriber(broker.url);
    const daemon = spawnCli(['run', '--config', writeConfig(dir, broker.url)]);
    let processed = 0;
    try {
      await until(() => sub.seen.length >= 10, START_MS, 'detections before the outage');
      await broker.stop();
      await sleep(20_000); // the outage: 20 s
      await broker.start();
      // The daemon's reconnect backoff (1 s doubling to 30 s) decides when it is back: wait for it.
      const connects = () => daemon.output().stdout.split('connected to MQTT broker').length - 1;
      await until(() => connects() >= 2, 40_000, 'the daemon to reconnect');
      // Then for the backlog to be through, rather than a fixed moment (a loaded machine sends it slower): every
      // detection of a stats line logged after the reconnect. What comes after it is what the stop's flush sends.
      const statsAfter = (from: number) => daemon.output().stdout.slice(from).split('\n').filter((l) => l.includes('"msg":"stats"'));
      const reconnectedAt = daemon.output().stdout.lastIndexOf('connected to MQTT broker');
      await until(() => statsAfter(reconnectedAt).length > 0, NEXT_MS, 'a stats line after the reconnect');
      const backlog = JSON.parse(statsAfter(reconnectedAt)[0]!).cameras.cam.processed as number;
      await until(() => new Set(sub.seen.map((d) => d.seq)).size >= backlog, NEXT_MS, `the ${backlog} detections held during the outage`);
    } finally {
      daemon.kill('SIGTERM');
      const exit = await waitExit(daemon, STOP_MS);
      expect(exit).toEqual({ code: 0, signal: null });
      // The last stats line of the run says how many frames the daemon processed (= detections published).
      const stats = daemon.output().stdout.split('\n').filter((l) => l.includes('"msg":"stats"'));
      processed = JSON.parse(stats[stats.length - 1]!).cameras.cam.processed;
    }
    await until(() => new Set(sub.seen.map((d) => d.seq)).size >= processed, NEXT_MS, `all ${processed} detections`);
    const seqs = sub.seen.map((d) => d.seq);
    const unique = [...new Set(seqs)];
    console.log(`[figures] outage: daemon processed ${processed}, subscriber received ${seqs.length} (${unique.length} distinct)`);
    expect(unique.length).toBe(processed);
    expect(unique).toEqual([...unique].sort((a, b) => a - b)); // first arrivals in order
    await sub.close();
    await broker.stop();
  }, START_MS + 20_000 + 40_000 + 3 * NEXT_MS + STOP_MS);

  it('SIGKILL with detections still in the outbox: delivered after the restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-sigkill-'));
    const port = await freePort();
    const broker = persistentBroker(dir, port);
    const config = writeConfig(dir, broker.url);
    const first = spawnCli(['run', '--config', config]);
    await until(() => /"processed":[1-9]\d+.*"msg":"stats"/.test(first.output().stdout), START_MS, 'detections to pile up with no broker');
    const stats = first.output().stdout.split('\n').filter((l) => l.includes('"msg":"stats"'));
    const held = JSON.parse(stats[stats.length - 1]!).cameras.cam.processed as number;
    const killedAt = Date.now();
    first.kill('SIGKILL');
    await waitExit(first, STOP_MS);

    await broker.start();
    const sub = await durableSubscriber(broker.url);
    const second = spawnCli(['run', '--config', config]);
    try {
      await until(() => sub.seen.filter((d) => Date.parse(d.ts) < killedAt).length >= held, START_MS, `the ${held} detections of the killed run`);
    } finally {
      second.kill('SIGTERM');
      await waitExit(second, STOP_MS);
    }
    const old = sub.seen.filter((d) => Date.parse(d.ts) < killedAt).map((d) => d.seq);
    console.log(`[figures] SIGKILL: ${held} processed before the kill, ${old.length} of them delivered after the restart`);
    expect(old.slice(0, held)).toEqual([...old.slice(0, held)].sort((a, b) => a - b));
    expect(second.output().stdout).toMatch(/sending detections held while the broker was away/);
    await sub.close();
    await broker.stop();
  }, 2 * START_MS + 2 * STOP_MS);
});
