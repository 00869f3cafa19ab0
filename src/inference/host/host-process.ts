import { fork, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { encodeRequestHeader, readReply, RecordReader, type Reply } from './frames-wire.js';
import type { HostReply, LoadRequest, LoadedReply, ResultReply } from './protocol.js';
import { Deadline } from '../../system/deadline.js';
import { siblingEntry } from '../../system/paths.js';

/** The host died (crash, abort, SIGSEGV in the runtime or the delegate) or was killed. */
export class HostExitedError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(message);
    this.name = 'HostExitedError';
  }
}

/** A request took longer than its deadline: the host is killed, since a hung inference never returns. */
export class HostTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostTimeoutError';
  }
}

/** The host answered with an error (bad model, invoke failure): the host itself is still alive. */
export class HostRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostRequestError';
  }
}

interface Pending {
  id: number;
  message: LoadRequest | { type: 'infer'; id: number; input: Uint8Array };
  timeoutMs: number;
  resolve(reply: HostReply): void;
  reject(err: Error): void;
}

/** Frames on the wire at once: one running, one waiting in the pipe so the host never idles between frames. */
const WIRE_DEPTH = 2;

const STDERR_LINES = 20;

/**
 * One inference host child process. Model loads go over the IPC channel; frames and results over a binary pipe
 * each way (frames-wire.ts), at most two frames on the wire. A frame's deadline starts when the one before it has
 * answered, so it measures that frame's own inference, not time spent queued behind other cameras.
 */
export class HostProcess {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private queue: Pending[] = [];
  /** A model load in flight (IPC). */
  private control: Pending | undefined;
  /** Frames written to the host, oldest (running) first. */
  private wire: Pending[] = [];
  /** The deadline of the request running now (a model load, or the oldest frame on the wire). */
  private readonly deadline = new Deadline();
  private frames: Writable | undefined;
  private stderrTail: string[] = [];
  private exitPromise: Promise<void> | undefined;
  private exited = false;

  /** pid of the running host, for tests and logs. */
  get pid(): number | undefined {
    return this.exited ? undefined : this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== undefined && !this.exited;
  }

  start(): void {
    if (this.child) throw new Error('host already started');
    const entry = siblingEntry(import.meta.url, 'host-main');
    const child = fork(entry.path, [], {
      serialization: 'advanced',
      execArgv: entry.execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc', 'pipe', 'pipe'],
    });
    this.child = child;
    const pipes = child.stdio as unknown as (Readable | Writable | null)[];
    this.frames = pipes[4] as Writable;
    // EPIPE when the host dies mid-write: 'exit' reports the death, so nothing more to do here.
    this.frames.on('error', () => undefined);
    const results = pipes[5] as Readable;
    const reader = new RecordReader();
    results.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let reply = readReply(reader); reply; reply = readReply(reader)) this.onWireReply(reply);
    });
    results.on('error', () => undefined);
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.stderrTail.push(line.trim());
      if (this.stderrTail.length > STDERR_LINES) this.stderrTail.splice(0, this.stderrTail.length - STDERR_LINES);
    });
    child.on('message', (reply: HostReply) => this.onReply(reply));
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = true;
        this.onExit(code, signal);
        resolve();
      });
    });
    child.on('error', () => {
      // 'exit' follows (or the fork failed and nothing runs): either way onExit rejects what waits.
    });
  }

  load(req: Omit<LoadRequest, 'type' | 'id'>, timeoutMs: number): Promise<LoadedReply> {
    return this.request({ type: 'load', ...req }, timeoutMs) as Promise<LoadedReply>;
  }

  infer(input: Uint8Array, timeoutMs: number): Promise<ResultReply> {
    return this.request({ type: 'infer', input }, timeoutMs) as Promise<ResultReply>;
  }

  /** Last lines the host wrote to stderr (TFLite and delegates report there). */
  stderr(): string[] {
    return [...this.stderrTail];
  }

  /** Stops the host and resolves once it has exited. */
  async stop(graceMs = 1000): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    if (child.connected) child.disconnect();
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(killer);
  }

  private request(body: { type: 'load'; threads: number; modelPath: string } | { type: 'infer'; input: Uint8Array }, timeoutMs: number): Promise<HostReply> {
    return new Promise((resolve, reject) => {
      if (!this.alive) {
        reject(new HostExitedError('inference host is not running', null, null));
        return;
      }
      const id = this.nextId++;
      this.queue.push({ id, message: { ...body, id } as Pending['message'], timeoutMs, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    const child = this.child;
    if (!child || this.control || this.exited) return;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (next.message.type === 'load') {
        if (this.wire.length > 0) return; // a load waits for the frames before it
        this.queue.shift();
        this.control = next;
        this.arm(next);
        child.send(next.message, (err) => {
          if (err && this.control === next) this.settle(next, undefined, new HostExitedError(`cannot reach inference host: ${err.message}`, null, null));
        });
        return;
      }
      if (this.wire.length >= WIRE_DEPTH) return;
      this.queue.shift();
      const input = next.message.input;
      // Header and pixels in one write(2): the host's reader blocks on the pipe, and every write that wakes it costs
      // a cross-core wakeup (0.3 ms of CPU a frame on a virtual machine, measured: two writes cost twice that).
      this.frames!.cork();
      this.frames!.write(encodeRequestHeader(next.id, input.length));
      this.frames!.write(input);
      this.frames!.uncork();
      this.wire.push(next);
      if (this.wire.length === 1) this.arm(next);
    }
  }

  private arm(pending: Pending): void {
    this.deadline.arm(pending.timeoutMs, () => this.onTimeout(pending));
  }

  private onReply(reply: HostReply): void {
    const current = this.control;
    if (!current || current.id !== reply.id) return; // a late answer to a request that already timed out
    this.control = undefined;
    if (reply.type === 'error') this.settle(current, undefined, new HostRequestError(reply.message));
    else this.settle(current, reply);
  }

  private onWireReply(reply: Reply): void {
    const head = this.wire[0];
    if (!head || head.id !== reply.id) return;
    this.wire.shift();
    if (this.wire[0]) this.arm(this.wire[0]); // the next frame starts running now
    else this.deadline.clear();
    if (reply.ok) this.settle(head, { type: 'result', id: reply.id, inferenceMs: reply.inferenceMs, cpuMs: reply.cpuMs, outputs: reply.outputs });
    else this.settle(head, undefined, new HostRequestError(reply.message));
  }

  private onTimeout(pending: Pending): void {
    if (this.control !== pending && this.wire[0] !== pending) return;
    const what = pending.message.type === 'load' ? 'model load' : 'inference';
    // The host is killed; 'exit' then rejects everything else that waits, with the reason.
    this.control = undefined;
    this.wire = this.wire.filter((p) => p !== pending);
    this.settle(pending, undefined, new HostTimeoutError(`${what} did not finish within ${pending.timeoutMs} ms; inference host killed`));
    this.child?.kill('SIGKILL');
  }

  private settle(pending: Pending, reply?: HostReply, err?: Error): void {
    if (this.control === pending) this.control = undefined;
    if (!this.control && this.wire.length === 0) this.deadline.clear();
    if (err) pending.reject(err);
    else pending.resolve(reply!);
    this.pump();
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.deadline.stop();
    const tail = this.stderrTail.slice(-3).join(' | ');
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    const err = new HostExitedError(`inference host ${how}${tail ? `: ${tail}` : ''}`, code, signal);
    const waiting = [...(this.control ? [this.control] : []), ...this.wire, ...this.queue];
    this.control = undefined;
    this.wire = [];
    this.queue = [];
    for (const p of waiting) p.reject(err);
  }
}
