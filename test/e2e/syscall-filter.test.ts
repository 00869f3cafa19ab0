import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitExit } from '../helpers/cli.js';
import { Subscriber, clearRetained, uniquePrefix } from '../helpers/mqtt.js';
import { ROOT, SSD_V1, image } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';

const PYTHON = '/usr/bin/python3';
const WRAPPER = resolve(ROOT, 'test', 'helpers', 'seccomp-exec.py');

/** The calls of a systemd syscall group, its nested groups expanded, as this machine's systemd defines them. */
function syscallGroup(group: string): string[] {
  const out = spawnSync('systemd-analyze', ['syscall-filter', '--no-pager'], { encoding: 'utf8' }).stdout;
  const groups = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    if (raw.startsWith('@')) groups.set(line.split(/\s/)[0]!, (current = []));
    else if (current && line && !line.startsWith('#')) current.push(line);
  }
  const expand = (g: string): string[] => (groups.get(g) ?? []).flatMap((x) => (x.startsWith('@') ? expand(x) : [x]));
  return [...new Set(expand(group))];
}

const missing = (): string => {
  if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) return 'systemd-analyze is not installed (Debian package systemd)';
  if (spawnSync(PYTHON, ['-c', 'import seccomp']).status !== 0) return `${PYTHON} has no seccomp module (Debian package python3-seccomp)`;
  if (spawnSync('sh', ['-c', 'command -v ffmpeg']).status !== 0) return 'ffmpeg is not installed';
  return '';
};
const SKIP = missing();

/**
 * systemd cannot run services in this sandbox (it is not PID 1), so the unit's SystemCallFilter=@system-service with
 * SystemCallErrorNumber=EPERM is applied the way systemd applies it: a seccomp allow-list installed before exec and
 * inherited by every child (the inference host, ffmpeg).
 */
describe('the daemon under the unit\'s system call filter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'me-seccomp-'));
  const prefix = uniquePrefix('seccomp');
  let topics: string[] = [];
  afterAll(async () => {
    await clearRetained(topics);
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(SKIP !== '')(`detects on a files and an ffmpeg camera, reloads on SIGHUP and stops cleanly when only @system-service calls are allowed (EPERM for the rest)${SKIP ? ` (skipped: ${SKIP})` : ''}`, async () => {
    const unit = readFileSync(join(ROOT, 'systemd', 'mobilenet-edge.service'), 'utf8');
    expect(unit).toMatch(/^SystemCallFilter=@system-service$/m);
    expect(unit).toMatch(/^SystemCallErrorNumber=EPERM$/m);
    const calls = syscallGroup('@system-service');
    expect(calls.length).toBeGreaterThan(100);
    const list = join(dir, 'system-service.txt');
    writeFileSync(list, calls.join('\n') + '\n');

    mkdirSync(join(dir, 'frames'));
    copyFileSync(image('cats_and_dogs.jpg'), join(dir, 'frames', 'f0.jpg'));
    mkdirSync(join(dir, 'state'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        device: { id: 'seccompd' },
        cameras: {
          files: { source: { type: 'files', path: join(dir, 'frames'), fps: 4, loop: true } },
          synth: { source: { type: 'ffmpeg', input: 'testsrc2=size=320x240:rate=5', inputOptions: ['-re', '-f', 'lavfi'], width: 320, height: 240, fps: 5 } },
        },
        detector: { backend: 'cpu', model: { cpu: SSD_V1 } },
        mqtt: { topicPrefix: prefix },
        http: { enabled: true, port: 0 },
        stats: { intervalSec: 1 },
      }),
    );
    const sub = await Subscriber.connect(`${prefix}/#`);
    const child = spawn(PYTHON, [WRAPPER, list, 'eperm', process.execPath, '--import', 'tsx', resolve(ROOT, 'src', 'main.ts'), 'run', '--config', config], {
      cwd: ROOT,
      env: { ...process.env, MOBILENET_EDGE_STATE_DIR: join(dir, 'state') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const lines = (): { msg: string; level: number; cameras?: Record<string, { processed: number }> }[] =>
      stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    try {
      await until(() => lines().some((l) => l.msg === 'stats' && l.cameras!.files!.processed > 0 && l.cameras!.synth!.processed > 0), 90_000, 'both cameras processing frames');
      child.kill('SIGHUP');
      await until(() => lines().some((l) => l.msg === 'config reloaded'), 30_000, 'the reload');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await waitExit(child, 15_000)).toEqual({ code: 0, signal: null });
    expect(lines().filter((l) => l.level >= 50)).toEqual([]);
    expect(stderr).toBe('');
    topics = [...new Set(sub.messages.map((m) => m.topic))];
    await sub.close();
  }, 150_000);
});
