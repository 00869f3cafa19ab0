import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestBroker, freePort } from '../helpers/broker.js';
import { runCli, spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, uniquePrefix } from '../helpers/mqtt.js';
import { INFERENCE_TIMEOUT_MS, NEXT_MS, START_MS, STOP_MS, cliTestMs } from '../helpers/budgets.js';
import { V1_025, image } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';

const config = (prefix: string, url: string, minScore: number) => ({
  device: { id: 'hup' },
  cameras: { cam: { source: { type: 'files', path: image('grace_hopper.bmp'), fps: 10 }, detect: { fps: 0 } } },
  detector: { backend: 'cpu', model: { cpu: V1_025 }, inferenceTimeoutMs: INFERENCE_TIMEOUT_MS },
  filters: { minScore },
  mqtt: { url, topicPrefix: prefix, clientId: `${prefix}-daemon`, outbox: { dir: null } }, // the broker is shared: an id of its own
  stats: { intervalSec: 1 },
});

describe('SIGHUP reloads the config', () => {
  it('applies filters live, names what needs a restart, and keeps running on the old config when the new file is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-hup-'));
    const file = join(dir, 'config.json');
    const prefix = uniquePrefix('hup');
    writeFileSync(file, JSON.stringify(config(prefix, 'mqtt://127.0.0.1:1883', 0)));
    const sub = await Subscriber.connect(`${prefix}/hup/cam/detections`);
    const daemon = spawnCli(['run', '--config', file]);
    const results = () => sub.messages.map((m) => (JSON.parse(m.payload.toString()) as { results: unknown[] }).results.length);
    try {
      await until(() => results().some((n) => n > 0), START_MS, 'detections with results');
      writeFileSync(file, JSON.stringify(config(prefix, 'mqtt://127.0.0.1:1884', 0.999)));
      const mark = sub.messages.length;
      daemon.kill('SIGHUP');
      await until(() => /config reloaded; some changes need a restart/.test(daemon.output().stdout), NEXT_MS, 'the reload line');
      const line = daemon.output().stdout.split('\n').find((l) => l.includes('config reloaded'))!;
      expect(JSON.parse(line)).toMatchObject({ applied: ['cameras.cam.filters.minScore', 'filters.minScore'], needRestart: ['mqtt.url'] });
      // minScore 0.999 now filters everything: from the first detection it empties, every later one is empty too.
      // (How many were already on their way when the reload line was read depends on the machine's speed.)
      const sinceReload = () => results().slice(mark);
      await until(() => sinceReload().filter((n) => n === 0).length >= 4, NEXT_MS, 'detections filtered by the new minScore');
      const firstEmpty = sinceReload().indexOf(0);
      expect(sinceReload().slice(firstEmpty).every((n) => n === 0)).toBe(true);

      writeFileSync(file, '{ "cameras": ');
      daemon.kill('SIGHUP');
      await until(() => /config reload refused/.test(daemon.output().stdout), NEXT_MS, 'the refusal');

      // The refusal names the key path (it said "key":"[redacted]": a redact path meant for TLS keys caught it).
      writeFileSync(file, JSON.stringify({ ...config(prefix, 'mqtt://127.0.0.1:1883', 0), filters: { minScore: 2 } }));
      daemon.kill('SIGHUP');
      await until(() => daemon.output().stdout.split('\n').filter((l) => l.includes('config reload refused')).length === 2, NEXT_MS, 'the second refusal');
      const refused = daemon.output().stdout.split('\n').filter((l) => l.includes('config reload refused'))[1]!;
      expect((JSON.parse(refused) as { problems: { key: string }[] }).problems).toEqual([expect.objectContaining({ key: 'filters.minScore' })]);
      const after = sub.messages.length;
      await until(() => sub.messages.length > after + 3, NEXT_MS, 'detections still flowing');
      expect(daemon.exitCode).toBeNull();
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
    await sub.close();
  }, START_MS + 5 * NEXT_MS + STOP_MS);
});

describe('security and sessions', () => {
  it('warns when a config holding a password is readable by every user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-perm-'));
    const file = join(dir, 'config.json');
    const cfg = config('x', 'mqtt://127.0.0.1:1883', 0);
    writeFileSync(file, JSON.stringify({ ...cfg, mqtt: { ...cfg.mqtt, username: 'u', password: 'p4ss' } }));
    chmodSync(file, 0o644);
    const open = await runCli(['check-config', '--config', file]);
    expect(open.stderr).toMatch(/holds secrets .* readable by every user \(mode 644\): chmod 640/);
    expect(open.stdout).not.toContain('p4ss');
    chmodSync(file, 0o640);
    expect((await runCli(['check-config', '--config', file])).stderr).not.toMatch(/readable by every user/);
  }, cliTestMs(2));

  it('availability is right after each of 10 broker restarts', async () => {
    const broker = new TestBroker(await freePort());
    await broker.start();
    const dir = mkdtempSync(join(tmpdir(), 'me-restarts-'));
    const file = join(dir, 'config.json');
    const prefix = uniquePrefix('restarts');
    writeFileSync(file, JSON.stringify(config(prefix, broker.url, 0)));
    const daemon = spawnCli(['run', '--config', file]);
    const availability = `${prefix}/hup/availability`;
    let sub = await Subscriber.connect(availability, broker.url);
    try {
      await sub.waitFor((m) => m.payload.toString() === 'online', START_MS, 'online');
      for (let i = 1; i <= 10; i++) {
        await sub.close().catch(() => undefined);
        await broker.stop();
        await broker.start();
        sub = await Subscriber.connect(availability, broker.url);
        // A fresh broker knows nothing: "online" must come from the daemon's reconnect, retained.
        const m = await sub.waitFor((x) => x.payload.toString() === 'online', NEXT_MS, `online after restart ${i}`);
        expect(m.retain || sub.messages.length > 0).toBe(true);
      }
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, STOP_MS)).toEqual({ code: 0, signal: null });
    const offline = await sub.waitFor((m) => m.payload.toString() === 'offline', NEXT_MS, 'offline at stop');
    expect(offline).toBeDefined();
    await sub.close();
    await broker.stop();
    expect(readFileSync(file, 'utf8')).toContain(prefix);
  }, START_MS + 10 * NEXT_MS + STOP_MS);
});
