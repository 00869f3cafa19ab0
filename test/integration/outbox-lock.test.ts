import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxFs, type OutboxMessage } from '../../src/publish/outbox.js';
import { createLogger, silentLogger, type Logger } from '../../src/system/logger.js';
import { ROOT } from '../helpers/paths.js';
import { until } from '../helpers/wait.js';

/*
 * The outbox lock against real processes and the real /proc: after a power cut the pid in a lock left behind often
 * belongs to some other process by the time the daemon starts again, and that must not keep the queue from being sent.
 */

const LOCK = 'outbox.lock';
const msg = (n: number): OutboxMessage => ({ topic: 'cams/lock/detections', payload: Buffer.from(JSON.stringify({ n })), qos: 1, retain: false });
const nOf = (m: OutboxMessage): number => (JSON.parse(m.payload.toString()) as { n: number }).n;

/** Start time (clock ticks since boot, field 22 of /proc/<pid>/stat) and boot id: what makes a process unique. */
function startOf(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}
const bootId = (): string => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
const identity = (pid: number, start = startOf(pid), boot = bootId()): string => `${pid}:${start}:${boot}`;

interface LogLine {
  level: number;
  msg: string;
  err?: string;
}
function capture(): { log: Logger; warnings: () => LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, warnings: () => lines.filter((l) => l.level === 40) };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-lock-'));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}
async function open(dir: string, log: Logger = silentLogger(), fsSeam?: OutboxFs): Promise<Outbox> {
  const o = await Outbox.open({ dir, maxMessages: 1000, maxBytes: 1 << 20, ...(fsSeam ? { fs: fsSeam } : {}) }, log);
  cleanups.push(() => o.close());
  return o;
}
/** Another live process that is not an outbox: what a reused pid belongs to. */
async function bystander(): Promise<ChildProcess> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  cleanups.push(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => child.on('spawn', resolve).on('error', reject));
  return child;
}
/** A pid no process has now (one that just exited). */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}
/** 50 detections queued by a run that then went away, leaving `lock` behind as its lock. */
async function queueLeftBehind(dir: string): Promise<void> {
  const first = await Outbox.open({ dir, maxMessages: 1000, maxBytes: 1 << 20 }, silentLogger());
  for (let n = 0; n < 50; n++) first.push(msg(n));
  await first.close();
  expect(fs.existsSync(path.join(dir, LOCK))).toBe(false);
}

describe('Outbox lock', () => {
  it('a stale lock whose pid now belongs to another live process is taken over, and the queue is replayed', async () => {
    const other = await bystander();
    const cases: [string, (dir: string) => void][] = [
      // The lock names the pid, but the process with that pid started at another time: the pid was reused.
      ['pid reused (regular file)', (dir) => fs.writeFileSync(path.join(dir, LOCK), `${identity(other.pid!, '1')}\n`)],
      ['pid reused (symlink)', (dir) => fs.symlinkSync(identity(other.pid!, '1'), path.join(dir, LOCK))],
      ['pid 1 reused', (dir) => fs.symlinkSync(identity(1, String(Number(startOf(1)) + 7)), path.join(dir, LOCK))],
      // Same pid and start time, but written during another boot: a power cut, and the numbers came round again.
      ['an earlier boot', (dir) => fs.symlinkSync(identity(other.pid!, startOf(other.pid!), '0'.repeat(32)), path.join(dir, LOCK))],
    ];
    for (const [name, leaveLock] of cases) {
      const dir = tmpDir();
      await queueLeftBehind(dir);
      leaveLock(dir);
      const { log, warnings } = capture();
      const o = await open(dir, log);
      expect(o.stats(), name).toMatchObject({ mode: 'disk', replayed: 50 });
      expect([...o.unacked()].map((u) => nOf(u.msg)), name).toEqual(Array.from({ length: 50 }, (_, n) => n));
      expect(warnings(), name).toEqual([]);
      // The lock now names this process.
      expect(fs.readlinkSync(path.join(dir, LOCK)), name).toBe(identity(process.pid));
      await o.close();
    }
  });

  it('a directory held by another live daemon is refused (memory mode, naming its pid), and taken over once it is SIGKILLed', async () => {
    const dir = tmpDir();
    const script = path.join(tmpDir(), 'holder.mts');
    fs.writeFileSync(
      script,
      `import { Outbox } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/publish/outbox.ts')).href)};
import { silentLogger } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/system/logger.ts')).href)};
const o = await Outbox.open({ dir: process.argv[2], maxMessages: 1000, maxBytes: 1 << 20 }, silentLogger());
for (let n = 0; n < 20; n++) o.push({ topic: 't', payload: Buffer.from(JSON.stringify({ n })), qos: 1, retain: false });
process.stdout.write(o.stats().mode + '\\n');
setInterval(() => {}, 1000);
`,
    );
    const holder = spawn(process.execPath, ['--import', 'tsx', script, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => void holder.kill('SIGKILL'));
    let out = '';
    holder.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await until(() => out.includes('\n'), 60_000, 'the holder to open its outbox');
    expect(out).toBe('disk\n');

    const { log, warnings } = capture();
    const refused = await open(dir, log);
    expect(refused.stats().mode).toBe('memory');
    expect(warnings()[0]!.err).toMatch(new RegExp(`in use by process ${holder.pid}`));
    await refused.close();

    const gone = new Promise((r) => holder.on('exit', r));
    holder.kill('SIGKILL');
    await gone;
    const taken = await open(dir);
    expect(taken.stats()).toMatchObject({ mode: 'disk', replayed: 20 });
  }, 90_000);

  it('a takeover that loses a race to another process leaves that process its lock and refuses', async () => {
    const dir = tmpDir();
    await queueLeftBehind(dir);
    const lock = path.join(dir, LOCK);
    fs.writeFileSync(lock, `${identity(await deadPid(), '1')}\n`); // stale: its process is gone
    const racer = await bystander();
    const racerLock = identity(racer.pid!);
    let raced = false;
    // Just before this process removes or moves the stale lock, the racer takes the stale lock over (as this code
    // would: it replaces it with its own).
    const race = (p: unknown): void => {
      if (raced || path.resolve(String(p)) !== lock) return;
      raced = true;
      fs.unlinkSync(lock);
      fs.symlinkSync(racerLock, lock);
    };
    const seam: OutboxFs = {
      ...fs,
      unlinkSync: ((p: fs.PathLike) => {
        race(p);
        fs.unlinkSync(p);
      }) as typeof fs.unlinkSync,
      renameSync: ((from: fs.PathLike, to: fs.PathLike) => {
        race(from);
        fs.renameSync(from, to);
      }) as typeof fs.renameSync,
    };
    const { log, warnings } = capture();
    const o = await open(dir, log, seam);
    expect(raced).toBe(true);
    expect(o.stats().mode).toBe('memory');
    expect(warnings()[0]!.err).toMatch(new RegExp(`in use by process ${racer.pid}`));
    expect(fs.readlinkSync(lock)).toBe(racerLock);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(LOCK))).toEqual([LOCK]);
  });

  it('several daemons starting at once on a stale lock: exactly one gets the directory', async () => {
    const dir = tmpDir();
    await queueLeftBehind(dir);
    fs.symlinkSync(identity(1, '1'), path.join(dir, LOCK));
    const go = path.join(tmpDir(), 'go');
    const script = path.join(tmpDir(), 'racer.mts');
    fs.writeFileSync(
      script,
      `import fs from 'node:fs';
import { Outbox } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/publish/outbox.ts')).href)};
import { silentLogger } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/system/logger.ts')).href)};
process.stdout.write('ready\\n');
while (!fs.existsSync(process.argv[3])) await new Promise((r) => setTimeout(r, 1));
const o = await Outbox.open({ dir: process.argv[2], maxMessages: 1000, maxBytes: 1 << 20 }, silentLogger());
process.stdout.write(o.stats().mode + ' ' + o.stats().replayed + '\\n');
setInterval(() => {}, 1000);
`,
    );
    const outs: string[] = [];
    const racers = Array.from({ length: 4 }, (_, i) => {
      outs[i] = '';
      const child = spawn(process.execPath, ['--import', 'tsx', script, dir, go], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      cleanups.push(() => void child.kill('SIGKILL'));
      child.stdout!.on('data', (c: Buffer) => (outs[i] += c.toString()));
      return child;
    });
    await until(() => outs.every((o) => o.startsWith('ready\n')), 90_000, 'every racer to start');
    fs.writeFileSync(go, '');
    await until(() => outs.every((o) => o.split('\n').length > 2), 30_000, 'every racer to open its outbox');
    const modes = outs.map((o) => o.split('\n')[1]!).sort();
    expect(modes).toEqual(['disk 50', 'memory 0', 'memory 0', 'memory 0']);
    const winner = racers[outs.findIndex((o) => o.includes('disk'))]!;
    expect(fs.readlinkSync(path.join(dir, LOCK))).toBe(identity(winner.pid!));
  }, 120_000);
});
