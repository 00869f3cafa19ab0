import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/*
 * A camera process must not outlive the daemon, nor leave anything behind when it ends: an ffmpeg waiting on a
 * silent RTSP source stayed alive (ppid 1) after the daemon was SIGKILLed, and an ffmpegPath wrapper script that
 * runs ffmpeg as its child left that ffmpeg running when it was stopped.
 *
 * So each camera process runs in its own process group (and session: Node's `detached`), signalled as a group, and
 * carries a lifeline: a pipe from the daemon to a tiny watcher forked into the same group just before the program
 * is exec'd. When the daemon dies, however it dies, the kernel closes the pipe, the watcher reads EOF and SIGKILLs
 * the group: the program, a wrapper's children, and itself. Linux's PR_SET_PDEATHSIG (util-linux `setpriv
 * --pdeathsig`) was the alternative; it reaches only the direct child (a wrapper's ffmpeg survives), and setpriv may
 * be missing or too old for the flag. The watcher is one POSIX sh, about 1 MB; the exec keeps the program's pid,
 * exit code and signal exactly as if it had been spawned directly.
 */
const LIFELINE = [
  // The lifeline moves to fd 3; the program gets /dev/null as stdin, as before.
  'exec 3<&0 </dev/null',
  // Forked twice, so the watcher is not the program's child (init reaps it). Stop signals are for the program; the
  // watcher waits for EOF, which comes when the daemon dies or has seen the program end (then this is a sweep).
  "( ( trap '' HUP INT TERM; read -r _ <&3; kill -KILL 0 ) </dev/null >/dev/null 2>&1 & )",
  'exec "$@" 3<&-',
].join('\n');

/** The program's stdout as the daemon reads it: every byte goes to the spawner's `onData`, in order. */
export interface ProgramOutput {
  /** Resolves once the output has ended (the last writer closed it, or destroy()) and every byte read went to onData. */
  readonly closed: Promise<void>;
  /** Stops reading and closes the daemon's end (a stray process still holding the other end gets EPIPE). */
  destroy(): void;
}

/** Where a camera program's stdout goes. */
export interface OutputSink {
  /** A chunk of the output, valid only during the call (copy what must stay). */
  data(chunk: Buffer): void;
  /**
   * For a sink that takes the bytes in place: where the next read should land, then how many did. The FIFO reader
   * uses them when both are there (no copy of the output at all); Node's pipe never does (it calls data()).
   */
  into?(): Uint8Array;
  wrote?(bytes: number): void;
}

/** One read of a camera's output: the pipe holds 64 KB, so a read never brings more. */
const READ_BYTES = 64 * 1024;

/**
 * Spawns `bin` in a new process group guarded by a lifeline (above). stdin is the lifeline, never written; stderr is
 * a pipe; stdout goes to `sink`, read in place where the sink says where (into) and else a chunk at a time.
 *
 * stdout is read into the sink's memory or one buffer, reused (readInto): Node's pipe allocates a new 64 KB buffer for every read, and a
 * 640x480 camera at 30 fps made 15 MB of them a second, which V8 counts as external memory: a full mark-compact of
 * the daemon's heap every 0.6-1 s, about a third of its CPU (measured: perf, --trace-gc; docs/performance.md).
 * Where a FIFO cannot be made, Node's pipe is used as before.
 *
 * Throws synchronously an ENOENT or EACCES error, like a failed spawn would report, when `bin` cannot be run: once
 * the shell is running, only its exit code would say so.
 */
export function spawnInGroup(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv | undefined,
  name: string,
  sink: OutputSink,
): { child: ChildProcess; output: ProgramOutput } {
  const file = resolveExecutable(bin, (env ?? process.env).PATH ?? '');
  const fifo = openAnonymousFifo();
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', LIFELINE, name, file, ...args], { stdio: ['pipe', fifo ? fifo.writeFd : 'pipe', 'pipe'], env, detached: true });
  } catch (err) {
    if (fifo) closeSync(fifo.readFd);
    throw err;
  } finally {
    // The child has its copy of the write end: the daemon's must go, or the reader would never see the end.
    if (fifo) closeSync(fifo.writeFd);
  }
  child.stdin!.on('error', () => {}); // never written; a pipe error on it means nothing
  return { child, output: fifo ? readInto(fifo.readFd, sink) : nodePipe(child, sink) };
}

/**
 * A pipe whose read end the daemon can read with its own buffer: a FIFO opened at both ends, then unlinked, so it is
 * as anonymous as pipe(2) and nothing is left on disk. Node has no pipe(2), and a net.Socket reads into a buffer of
 * its own (`onread`) only on a descriptor it was given. Undefined where one cannot be made (no mkfifo, no temp dir).
 */
function openAnonymousFifo(): { readFd: number; writeFd: number } | undefined {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(path.join(tmpdir(), 'mobilenet-edge-'));
    const fifo = path.join(dir, 'out');
    execFileSync('mkfifo', ['-m', '600', fifo], { stdio: 'ignore' });
    // Non-blocking for the event loop's end; the program's end (opened next, which a reader lets succeed at once) is
    // an ordinary blocking stdout.
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      return { readFd, writeFd: openSync(fifo, constants.O_WRONLY) };
    } catch (err) {
      closeSync(readFd);
      throw err;
    }
  } catch {
    return undefined;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function readInto(fd: number, sink: OutputSink): ProgramOutput {
  const { into, wrote } = sink;
  // Node asks the function for the buffer of every read (the first one as the socket is made).
  const onread =
    into && wrote
      ? { buffer: () => into.call(sink), callback: (bytes: number) => (wrote.call(sink, bytes), true) }
      : {
          buffer: Buffer.allocUnsafe(READ_BYTES),
          callback: (bytes: number, buf: Buffer) => {
            sink.data(buf.subarray(0, bytes));
            return true;
          },
        };
  const socket = new Socket({
    fd,
    readable: true,
    writable: false,
    onread,
    // Node reads into `onread` on a socket made from a descriptor too (the inference host's frame reader does);
    // @types/node lists it only for connect().
  } as ConstructorParameters<typeof Socket>[0]);
  socket.on('error', () => {}); // a read error ends the output like EOF: the program's exit says what happened
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { closed, destroy: () => socket.destroy() };
}

function nodePipe(child: ChildProcess, sink: OutputSink): ProgramOutput {
  const stdout = child.stdout!;
  stdout.on('data', (chunk: Buffer) => sink.data(chunk));
  const closed = new Promise<void>((resolve) => {
    if (stdout.closed) resolve();
    else stdout.once('close', () => resolve());
  });
  return { closed, destroy: () => stdout.destroy() };
}

/** Signals the child's whole group. Only while the lifeline is held: the watcher keeps the group id from being reused. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * The program has ended and its pipes are closed: whatever is left in its group (a stray that closed its stdio, the
 * watcher) is killed now, while the watcher still holds the group id, and the lifeline is closed.
 */
export function endGroup(child: ChildProcess): void {
  signalGroup(child, 'SIGKILL');
  child.stdin?.destroy();
}

/** What execvp would run: `bin` itself when it has a slash, else the first executable file of that name on PATH. */
export function resolveExecutable(bin: string, searchPath: string): string {
  const candidates = bin.includes('/') ? [bin] : searchPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, bin));
  let denied = false;
  for (const file of candidates) {
    try {
      if (!statSync(file).isFile()) {
        denied = true;
        continue;
      }
    } catch {
      continue;
    }
    try {
      accessSync(file, constants.X_OK);
      return path.resolve(file);
    } catch {
      denied = true;
    }
  }
  const code = denied ? 'EACCES' : 'ENOENT';
  throw Object.assign(new Error(`spawn ${bin} ${code}`), { code, syscall: 'spawn', path: bin });
}
