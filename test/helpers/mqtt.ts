import mqtt, { type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** Date.now() when the message arrived. */
  at: number;
}

/** A test subscriber on the local broker that keeps every message and can wait for one matching a predicate. */
export class Subscriber {
  readonly messages: Received[] = [];
  private waiters: { pred: (m: Received) => boolean; resolve: (m: Received) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload, retain: packet.retain, at: Date.now() };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async connect(topic: string, url = 'mqtt://127.0.0.1:1883'): Promise<Subscriber> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    const sub = new Subscriber(client);
    await client.subscribeAsync(topic, { qos: 1 });
    return sub;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  waitFor(pred: (m: Received) => boolean, timeoutMs: number, what = 'message'): Promise<Received> {
    const found = this.messages.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

/** Clears retained messages a test left on its own topics. */
export async function clearRetained(topics: string[]): Promise<void> {
  const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { reconnectPeriod: 0 });
  for (const t of topics) await client.publishAsync(t, '', { retain: true, qos: 1 });
  await client.endAsync();
}

export const uniquePrefix = (name: string): string => `me-test-${name}-${process.pid}-${Date.now().toString(36)}`;
