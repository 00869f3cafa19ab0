import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/system/logger.js';
import { SystemdNotifier, watchdogInterval, type DatagramSend } from '../../src/system/systemd-notify.js';

interface LogLine {
  level: number;
  msg: string;
  err?: string;
}
function capture(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { log: createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) }), lines };
}

interface Receiver {
  bind(path: string): void;
  on(event: 'message', cb: (buf: Buffer) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  close(): void;
}
let unixDgram: { createSocket(type: 'unix_dgram'): Receiver } | undefined;
let missing = '';
try {
  unixDgram = createRequire(import.meta.url)('unix-dgram') as typeof unixDgram;
} catch (err) {
  missing = `the optional package unix-dgram is not installed or did not build: ${(err as Error).message.split('\n')[0]}`;
}

describe('SystemdNotifier without systemd', () => {
  it('does nothing, loads nothing and logs nothing when NOTIFY_SOCKET is not set', () => {
    const { log, lines } = capture();
    let loads = 0;
    const n = new SystemdNotifier(log, { WATCHDOG_USEC: '60000000' }, () => {
      loads++;
      return () => undefined;
    });
    n.ready('up');
    n.status('x');
    n.watchdog();
    n.stopping();
    expect(loads).toBe(0);
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs()).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it('says once that the socket package did not load, then every call is a no-op', () => {
    const { log, lines } = capture();
    const n = new SystemdNotifier(log, { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '60000000' }, () => {
      throw new Error("Cannot find module 'unix-dgram'");
    });
    n.ready();
    n.watchdog();
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs()).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/unix-dgram did not load/);
  });

  it('refuses an abstract socket address with one warning instead of sending to a wrong path', () => {
    const { log, lines } = capture();
    const sent: string[] = [];
    const n = new SystemdNotifier(log, { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }, () => (p) => void sent.push(p));
    n.ready();
    expect(sent).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/abstract/);
  });

  it('reports a send failure once per distinct error, not on every watchdog tick', () => {
    const { log, lines } = capture();
    const failing: DatagramSend = () => {
      throw new Error('connect ECONNREFUSED');
    };
    const n = new SystemdNotifier(log, { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '2000000' }, () => failing);
    for (let i = 0; i < 5; i++) n.watchdog();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'cannot notify systemd', err: 'connect ECONNREFUSED' });
  });
});

describe('watchdogInterval', () => {
  it('reads WATCHDOG_USEC in ms, only for this pid, and ignores junk', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '60000000' })).toBe(60_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '4242' }, 4242)).toBe(60_000);
    expect(watchdogInterval({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '4243' }, 4242)).toBeUndefined();
    for (const junk of ['', '0', '-5', 'abc', '1.5']) expect(watchdogInterval({ WATCHDOG_USEC: junk })).toBeUndefined();
    expect(watchdogInterval({})).toBeUndefined();
  });
});

describe.skipIf(missing !== '')(`SystemdNotifier over a real unix datagram socket${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it('sends READY=1 with a status, STATUS, WATCHDOG=1 and STOPPING=1 as separate datagrams, in order', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const socketPath = path.join(dir, 'notify');
    const received: string[] = [];
    const receiver = unixDgram!.createSocket('unix_dgram');
    receiver.on('message', (buf) => received.push(buf.toString()));
    receiver.bind(socketPath);
    cleanup.push(() => receiver.close());

    const { log, lines } = capture();
    const n = new SystemdNotifier(log, { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '60000000', WATCHDOG_PID: String(process.pid) });
    expect(n.enabled).toBe(true);
    expect(n.watchdogIntervalMs()).toBe(60_000);
    n.ready('2 cameras, edgetpu');
    n.status('camera driveway\nstalled');
    n.watchdog();
    n.stopping();

    const deadline = Date.now() + 5000;
    while (received.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(received).toEqual(['READY=1\nSTATUS=2 cameras, edgetpu', 'STATUS=camera driveway stalled', 'WATCHDOG=1', 'STOPPING=1']);
    expect(lines).toEqual([]);
  });

  it('without WatchdogSec it sends no WATCHDOG=1; with nobody listening it warns once and keeps going', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const { log, lines } = capture();
    const n = new SystemdNotifier(log, { NOTIFY_SOCKET: path.join(dir, 'nobody') });
    expect(n.watchdogIntervalMs()).toBeUndefined();
    n.watchdog();
    expect(lines).toEqual([]);
    n.ready();
    n.ready();
    n.stopping();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.err).toBe('send ENOENT');
  });
});
