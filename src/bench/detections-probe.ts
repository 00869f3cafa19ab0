import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import type { ProbeRecord, ProbeReply, ProbeRequest } from './probe-wire.js';
import { siblingEntry } from '../system/paths.js';

/** The broker cannot be reached: the bench stops at once with this, instead of waiting on retries. */
export class BrokerUnreachableError extends Error {
  constructor(url: string, reason: string) {
    super(`cannot reach the MQTT broker at ${url}: ${reason}`);
    this.name = 'BrokerUnreachableError';
  }
}

/** One detections message as the bench sees it arrive. */
export interface ReceivedDetection {
  camera: string;
  seq: number;
  /** The backend that ran the frame (a TPU run can fall back to the CPU). */
  backend: string;
  /** Frame capture, Date.now() milliseconds, from the payload's `ts`. */
  capturedWall: number;
  /** Arrival, performance.timeOrigin-based milliseconds (sub-millisecond). */
  receivedWall: number;
  /** performance.now() at arrival. */
  receivedAt: number;
  /** The payload's per-stage times, when it has them. */
  latencyMs: Partial<Record<'capture' | 'preprocess' | 'inference' | 'postprocess' | 'total', number>>;
}

/** Connects with no retries: resolves once connected, rejects with BrokerUnreachableError otherwise. */
export function connectOnce(url: string, clientId: string, timeoutMs = 3000): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { clientId, reconnectPeriod: 0, connectTimeout: timeoutMs, clean: true });
    const fail = (reason: string): void => {
      clearTimeout(timer);
      client.removeAllListeners('connect');
      client.end(true);
      reject(new BrokerUnreachableError(url, reason));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs + 500);
    client.once('connect', () => {
      clearTimeout(timer);
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      // Later errors (a broker going away mid-run) must not become uncaught exceptions.
      client.on('error', () => undefined);
      resolve(client);
    });
    client.once('error', (err) => fail(err.message || String(err)));
    client.once('close', () => fail('connection closed before the broker answered'));
  });
}

/** process.hrtime (CLOCK_MONOTONIC) milliseconds minus performance.now(): turns the subscriber's arrival times into ours. */
function hrOffsetMs(): number {
  const before = performance.now();
  const hr = Number(process.hrtime.bigint()) / 1e6;
  const after = performance.now();
  return hr - (before + after) / 2;
}

const CLOSE_TIMEOUT_MS = 5000;

/**
 * The bench's subscriber on `<baseTopic>/+/detections`, in a child process (probe-child.ts) so that receiving the
 * messages costs the measured process nothing: end to end is from the frame's capture to the message coming back
 * from the broker. What arrived is fetched with `flush()` (between measurements) and handed to the listener.
 */
export class DetectionsProbe {
  private listener: ((d: ReceivedDetection) => void) | undefined;
  private readonly hrOffset = hrOffsetMs();
  private nextId = 1;
  private readonly waiting = new Map<number, (records: ProbeRecord[]) => void>();
  private exited = false;
  received = 0;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: ProbeReply) => {
      if (msg.type !== 'records') return;
      this.waiting.get(msg.id)?.(msg.records);
      this.waiting.delete(msg.id);
    });
    child.on('exit', () => {
      this.exited = true;
      for (const resolve of this.waiting.values()) resolve([]);
      this.waiting.clear();
    });
  }

  static async connect(url: string, baseTopic: string, clientId: string): Promise<DetectionsProbe> {
    const entry = siblingEntry(import.meta.url, 'probe-child');
    const child = fork(entry.path, [], { execArgv: entry.execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const outcome = await new Promise<ProbeReply | { type: 'exited'; code: number | null }>((resolve) => {
      child.once('message', (msg: ProbeReply) => resolve(msg));
      child.once('exit', (code) => resolve({ type: 'exited', code }));
      child.once('error', () => resolve({ type: 'exited', code: null }));
      child.send({ type: 'connect', url, baseTopic, clientId } satisfies ProbeRequest);
    });
    if (outcome.type === 'connected') return new DetectionsProbe(child);
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await gone; // reaped: no process left behind
    }
    if (outcome.type === 'failed') throw new BrokerUnreachableError(url, outcome.message.replace(/^cannot reach the MQTT broker at \S+: /, ''));
    throw new BrokerUnreachableError(url, `the bench's subscriber process ended (${outcome.type === 'exited' ? `code ${outcome.code}` : outcome.type})`);
  }

  /** The subscriber process (not an inference host: the bench leaves it out of the hosts' CPU and memory). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Where arriving detections go (one listener: each phase sets its own). */
  onDetection(listener: ((d: ReceivedDetection) => void) | undefined): void {
    this.listener = listener;
  }

  /** Hands every detection the subscriber received since the last flush to the listener. */
  async flush(): Promise<void> {
    if (this.exited) return;
    const id = this.nextId++;
    const records = await new Promise<ProbeRecord[]>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ type: 'collect', id } satisfies ProbeRequest, (err) => {
        if (err) {
          this.waiting.delete(id);
          resolve([]);
        }
      });
    });
    for (const r of records) {
      this.received++;
      const receivedAt = r.receivedHrMs - this.hrOffset;
      this.listener?.({ camera: r.camera, seq: r.seq, backend: r.backend, capturedWall: r.capturedWall, receivedWall: performance.timeOrigin + receivedAt, receivedAt, latencyMs: r.latencyMs });
    }
  }

  /** Clears retained topics the run left behind (availability, camera status), then ends the subscriber. */
  async close(clearRetained: string[] = []): Promise<void> {
    this.listener = undefined;
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'close', clearRetained } satisfies ProbeRequest, () => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
  }
}
