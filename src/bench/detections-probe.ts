import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';

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

/**
 * A subscriber in the bench process on `<baseTopic>/+/detections`: end to end is measured here, from the frame's
 * capture to the message coming back from the broker.
 */
export class DetectionsProbe {
  private listener: ((d: ReceivedDetection) => void) | undefined;
  received = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly baseTopic: string,
  ) {
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  static async connect(url: string, baseTopic: string, clientId: string): Promise<DetectionsProbe> {
    const client = await connectOnce(url, clientId);
    try {
      await client.subscribeAsync(`${baseTopic}/+/detections`, { qos: 0 });
    } catch (err) {
      client.end(true);
      throw new BrokerUnreachableError(url, `subscribe failed: ${(err as Error).message}`);
    }
    return new DetectionsProbe(client, baseTopic);
  }

  /** Where arriving detections go (one listener: each phase sets its own). */
  onDetection(listener: ((d: ReceivedDetection) => void) | undefined): void {
    this.listener = listener;
  }

  /** Clears retained topics the run left behind (availability, camera status), then disconnects. */
  async close(clearRetained: string[] = []): Promise<void> {
    this.listener = undefined;
    try {
      if (this.client.connected) {
        await Promise.all(clearRetained.map((t) => this.client.publishAsync(t, '', { qos: 1, retain: true })));
      }
    } finally {
      await this.client.endAsync().catch(() => undefined);
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const receivedAt = performance.now();
    const receivedWall = performance.timeOrigin + receivedAt;
    this.received++;
    const listener = this.listener;
    if (!listener || !topic.startsWith(`${this.baseTopic}/`)) return;
    const camera = topic.slice(this.baseTopic.length + 1, -'/detections'.length);
    let body: { seq?: unknown; ts?: unknown; backend?: unknown; latencyMs?: unknown };
    try {
      body = JSON.parse(payload.toString('utf8')) as typeof body;
    } catch {
      return;
    }
    const capturedWall = typeof body.ts === 'string' ? Date.parse(body.ts) : NaN;
    if (typeof body.seq !== 'number') return;
    const latencyMs = typeof body.latencyMs === 'object' && body.latencyMs !== null ? (body.latencyMs as ReceivedDetection['latencyMs']) : {};
    const backend = typeof body.backend === 'string' ? body.backend : '';
    listener({ camera, seq: body.seq, backend, capturedWall, receivedWall, receivedAt, latencyMs });
  }
}
