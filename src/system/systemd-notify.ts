import { createRequire } from 'node:module';
import { getSystemErrorName } from 'node:util';
import type { Logger } from './logger.js';

/** Sends one datagram to a unix socket path; throws on failure. */
export type DatagramSend = (socketPath: string, message: Buffer) => void;

/** What we use of the optional `unix-dgram` package (it ships no types). */
interface UnixDgram {
  createSocket(type: 'unix_dgram'): {
    on(event: 'error', listener: (err: Error) => void): unknown;
    send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
    close(): void;
  };
}

/**
 * Node has no unix datagram sockets; `unix-dgram` (an optional dependency with a small native addon, the one
 * zigbee2mqtt uses) provides them. A socket per message, as libsystemd's sd_notify does: nothing stays open to hold the
 * event loop or to clean up, and a notification every few seconds costs nothing.
 */
export function loadUnixDgram(): DatagramSend {
  const dgram = createRequire(import.meta.url)('unix-dgram') as UnixDgram;
  return (socketPath, message) => {
    const socket = dgram.createSocket('unix_dgram');
    let failure: Error | undefined;
    socket.on('error', (err) => (failure = err));
    try {
      // unix-dgram calls back synchronously: sendmsg(2) on a datagram socket does not wait.
      socket.send(message, 0, message.length, socketPath, (err) => (failure = err ?? undefined));
    } finally {
      socket.close();
    }
    if (failure) throw readable(failure);
  };
}

/** unix-dgram reports "send -111"; a log line should say "send ECONNREFUSED". */
function readable(err: Error & { errno?: unknown; syscall?: string }): Error {
  if (typeof err.errno !== 'number' || err.errno >= 0) return err;
  const name = getSystemErrorName(err.errno);
  return Object.assign(new Error(`${err.syscall ?? 'send'} ${name}`), { code: name });
}

/**
 * The sd_notify protocol for a Type=notify unit: READY=1 once started, STOPPING=1, STATUS=..., and WATCHDOG=1 keep-alives
 * when the unit has WatchdogSec=. Without $NOTIFY_SOCKET (not under systemd) every call does nothing; when the socket
 * package cannot load, or the address is abstract (`@...`, which unix-dgram cannot address; systemd itself uses
 * /run/systemd/notify), it says so once and does nothing.
 */
export class SystemdNotifier {
  private readonly send: DatagramSend | undefined;
  private readonly socketPath: string | undefined;
  private readonly watchdogMs: number | undefined;
  private readonly failedWith = new Set<string>();

  constructor(
    private readonly log: Logger,
    env: NodeJS.ProcessEnv = process.env,
    load: () => DatagramSend = loadUnixDgram,
  ) {
    const target = env.NOTIFY_SOCKET;
    if (!target) return;
    if (target.startsWith('@')) {
      log.warn({ socket: target }, 'NOTIFY_SOCKET is an abstract socket, which unix-dgram cannot address: no systemd notifications (a Type=notify unit will time out at start)');
      return;
    }
    try {
      this.send = load();
    } catch (err) {
      log.warn(
        { err: (err as Error).message },
        'systemd asked for notifications (NOTIFY_SOCKET) but the optional package unix-dgram did not load: none are sent, so a Type=notify unit will time out at start; reinstall with build tools (npm ci) or use Type=simple',
      );
      return;
    }
    this.socketPath = target;
    this.watchdogMs = watchdogInterval(env);
  }

  /** True when notifications are actually sent. */
  get enabled(): boolean {
    return this.send !== undefined;
  }

  ready(status?: string): void {
    this.notify(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`);
  }

  stopping(status?: string): void {
    this.notify(status === undefined ? 'STOPPING=1' : `STOPPING=1\nSTATUS=${oneLine(status)}`);
  }

  /** Shown by `systemctl status`. */
  status(text: string): void {
    this.notify(`STATUS=${oneLine(text)}`);
  }

  /** Tells the service manager the daemon is alive; call it at least every watchdogIntervalMs() / 2. */
  watchdog(): void {
    if (this.watchdogMs !== undefined) this.notify('WATCHDOG=1');
  }

  /**
   * The unit's WatchdogSec in ms ($WATCHDOG_USEC), when it is meant for this process ($WATCHDOG_PID absent or ours)
   * and notifications can be sent; systemd kills the service if no WATCHDOG=1 arrives within it.
   */
  watchdogIntervalMs(): number | undefined {
    return this.watchdogMs;
  }

  private notify(message: string): void {
    if (!this.send || !this.socketPath) return;
    try {
      this.send(this.socketPath, Buffer.from(message));
    } catch (err) {
      // One line per distinct failure: a watchdog every 30 s must not repeat the same complaint forever.
      const text = (err as Error).message;
      if (this.failedWith.has(text)) return;
      this.failedWith.add(text);
      this.log.warn({ socket: this.socketPath, err: text, message: message.split('\n')[0] }, 'cannot notify systemd');
    }
  }
}

/** WATCHDOG_USEC in ms, if set, positive, and (per WATCHDOG_PID) for this process. */
export function watchdogInterval(env: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 1000));
}

/** Each notify line is one assignment: a newline in a status would start a bogus one. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 512);
}
