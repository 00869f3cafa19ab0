import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxMessage } from '../../src/publish/outbox.js';
import { silentLogger } from '../../src/system/logger.js';
import { TestBroker, freePort } from '../helpers/broker.js';
import { Subscriber, uniquePrefix } from '../helpers/mqtt.js';
import { until } from '../helpers/wait.js';

/** The wiring the publisher is meant to have: publish at the message's QoS, ack the outbox on PUBACK. */
function send(client: MqttClient, outbox: Outbox, id: number, msg: OutboxMessage): void {
  client.publish(msg.topic, msg.payload, { qos: msg.qos, retain: msg.retain }, (err) => {
    if (!err) outbox.ack(id);
  });
}

describe('Outbox with a real broker', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('detections pushed while the broker is down survive a daemon restart and arrive once, in order, after it is back', async () => {
    const broker = new TestBroker(await freePort());
    cleanups.push(() => broker.stop());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-mqtt-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const topic = `${uniquePrefix('outbox')}/detections`;
    const msg = (n: number): OutboxMessage => ({ topic, payload: Buffer.from(JSON.stringify({ n })), qos: 1, retain: false });

    // Broker down: the daemon queues 40 detections, then restarts.
    const first = await Outbox.open({ dir, maxMessages: 1000, maxBytes: 1 << 20 }, silentLogger());
    for (let n = 0; n < 40; n++) first.push(msg(n));
    await first.close();

    const outbox = await Outbox.open({ dir, maxMessages: 1000, maxBytes: 1 << 20 }, silentLogger());
    cleanups.push(() => outbox.close());
    expect(outbox.stats()).toMatchObject({ depth: 40, replayed: 40 });

    await broker.start();
    const sub = await Subscriber.connect(topic, broker.url);
    cleanups.push(() => sub.close());
    const client = mqtt.connect(broker.url, { reconnectPeriod: 200 });
    cleanups.push(() => client.endAsync());
    // Live traffic after the replay keeps its place behind the backlog.
    client.on('connect', () => {
      for (const { id, msg: m } of outbox.unacked()) send(client, outbox, id, m);
      for (let n = 40; n < 45; n++) send(client, outbox, outbox.push(msg(n)), msg(n));
    });

    await until(() => sub.messages.length >= 45, 10_000, '45 messages');
    await until(() => outbox.stats().depth === 0, 5000, 'every PUBACK');
    await new Promise((r) => setTimeout(r, 200));
    expect(sub.messages.map((m) => (JSON.parse(m.payload.toString()) as { n: number }).n)).toEqual(Array.from({ length: 45 }, (_, n) => n));
  });
});
