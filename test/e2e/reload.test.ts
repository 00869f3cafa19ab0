import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestBroker, freePort } from '../helpers/broker.js';
import { runCli, spawnCli, waitExit } from '../helpers/cli.js';
import { Subscriber, uniquePrefix } from '../helpers/mqtt.js';
import { V1_025, image } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';

const config = (prefix: string, url: string, minScore: number) => ({
  device: { id: 'hup' },
  cameras: { cam: { source: { type: 'files', path: image('grace_hopper.bmp'), fps: 10 }, detect: { fps: 0 } } },
  detector: { backend: 'cpu', model: { cpu: V1_025 } },
  filters: { minScore },
  mqtt: { url, topicPrefix: prefix, outbox: { dir: null } },
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
      await until(() => results().some((n) => n > 0), 20_000, 'detections with results');
      writeFileSync(file, JSON.stringify(config(prefix, 'mqtt://127.0.0.1:1884', 0.999)));
      daemon.kill('SIGHUP');
      await until(() => /config reloaded; some changes need a restart/.test(daemon.output().stdout), 5000, 'the reload line');
      const line = daemon.output().stdout.split('\n').find((l) => l.includes('config reloaded'))!;
      expect(JSON.parse(line)).toMatchObject({ applied: ['cameras.cam.filters.minScore', 'filters.minScore'], needRestart: ['mqtt.url'] });
      const mark = sub.messages.length;
      await until(() => sub.messages.length > mark + 3, 5000, 'detections after the reload');
      expect(results().slice(mark + 1).every((n) => n === 0)).toBe(true); // minScore 0.999 now filters everything

      writeFileSync(file, '{ "cameras": ');
      daemon.kill('SIGHUP');
      await until(() => /config reload refused/.test(daemon.output().stdout), 5000, 'the refusal');

      // The refusal names the key path (it said "key":"[redacted]": a redact path meant for TLS keys caught it).
      writeFileSync(file, JSON.stringify({ ...config(prefix, 'mqtt://127.0.0.1:1883', 0), filters: { minScore: 2 } }));
      daemon.kill('SIGHUP');
      await until(() => daemon.output().stdout.split('\n').filter((l) => l.includes('config reload refused')).length === 2, 10_000, 'the second refusal');
      const refused = daemon.output().stdout.split('\n').filter((l) => l.includes('config reload refused'))[1]!;
      expect((JSON.parse(refused) as { problems: { key: string }[] }).problems).toEqual([expect.objectContaining({ key: 'filters.minScore' })]);
      const after = sub.messages.length;
      await until(() => sub.messages.length > after + 3, 5000, 'detections still flowing');
      expect(daemon.exitCode).toBeNull();
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, 6000)).toEqual({ code: 0, signal: null });
    await sub.close();
  }, 40_000);
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
  });

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
      await sub.waitFor((m) => m.payload.toString() === 'online', 20_000, 'online');
      for (let i = 1; i <= 10; i++) {
        await sub.close().catch(() => undefined);
        await broker.stop();
        await broker.start();
        sub = await Subscriber.connect(availability, broker.url);
        // A fresh broker knows nothing: "online" must come from the daemon's reconnect, retained.
        const m = await sub.waitFor((x) => x.payload.toString() === 'online', 10_000, `online after restart ${i}`);
        expect(m.retain || sub.messages.length > 0).toBe(true);
      }
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await waitExit(daemon, 6000)).toEqual({ code: 0, signal: null });
    const offline = await sub.waitFor((m) => m.payload.toString() === 'offline', 3000, 'offline at stop');
    expect(offline).toBeDefined();
    await sub.close();
    await broker.stop();
    expect(readFileSync(file, 'utf8')).toContain(prefix);
  }, 90_000);
});
