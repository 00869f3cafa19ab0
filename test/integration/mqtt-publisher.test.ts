import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttPublisher, type PublisherOptions } from '../../src/publish/mqtt-publisher.js';
import { createLogger, silentLogger } from '../../src/system/logger.js';
import { Outbox } from '../../src/publish/outbox.js';
import { TestBroker, freePort } from '../helpers/broker.js';
import { Subscriber, clearRetained, uniquePrefix } from '../helpers/mqtt.js';
import { until } from '../helpers/wait.js';

const queued = { qos: 1 as const, retain: false, offline: 'queue' as const };

/** An in-memory outbox: the disk outbox has its own suites (outbox-*.test.ts). */
const memoryOutbox = (maxMessages = 100): Promise<Outbox> => Outbox.open({ dir: null, maxMessages, maxBytes: 1 << 20 }, silentLogger());

function options(url: string, baseTopic: string, outbox: Outbox, extra: Partial<PublisherOptions> = {}): PublisherOptions {
  return {
    url,
    clientId: `${baseTopic}-client`,
    username: null,
    password: null,
    keepaliveSec: 10,
    baseTopic,
    outbox,
    tls: { ca: null, cert: null, key: null, rejectUnauthorized: true },
    ...extra,
  };
}

describe('MqttPublisher', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('announces online (retained), publishes, and leaves a retained offline on stop', async () => {
    const base = uniquePrefix('pub');
    const sub = await Subscriber.connect(`${base}/#`);
    cleanups.push(() => sub.close());
    const pub = new MqttPublisher(options('mqtt://127.0.0.1:1883', base, await memoryOutbox()), silentLogger());
    pub.start();
    await sub.waitFor((m) => m.topic === `${base}/availability` && m.payload.toString() === 'online', 5000, 'online');
    pub.publish(pub.topic('cam', 'detections'), '{"seq":1}', queued);
    await sub.waitFor((m) => m.topic === `${base}/cam/detections`, 5000, 'detection');
    await pub.stop();
    await sub.waitFor((m) => m.topic === `${base}/availability` && m.payload.toString() === 'offline', 5000, 'offline');
    // A late subscriber sees the retained offline.
    const late = await Subscriber.connect(`${base}/availability`);
    cleanups.push(() => late.close());
    const retained = await late.waitFor(() => true, 3000, 'retained availability');
    expect(retained.retain).toBe(true);
    expect(retained.payload.toString()).toBe('offline');
    expect(pub.snapshot().published).toBeGreaterThanOrEqual(1);
  });

  it('a value held while offline is not sent after a newer one a connect hook publishes on the same topic', async () => {
    const base = uniquePrefix('newer');
    const sub = await Subscriber.connect(`${base}/#`);
    cleanups.push(() => clearRetained([`${base}/cam/detect/state`, `${base}/availability`]), () => sub.close());
    const pub = new MqttPublisher(options('mqtt://127.0.0.1:1883', base, await memoryOutbox()), silentLogger());
    const retained = { qos: 1 as const, retain: true, offline: 'latest' as const };
    let state = 'ON';
    pub.publish(pub.topic('cam', 'detect', 'state'), state, retained); // held: not connected yet
    state = 'OFF'; // changed before the connect; the hook publishes what is current
    pub.onConnect(() => pub.publish(pub.topic('cam', 'detect', 'state'), state, retained));
    pub.start();
    cleanups.push(() => pub.stop(500));
    await sub.waitFor((m) => m.topic === `${base}/availability` && m.payload.toString() === 'online', 5000, 'online');
    await sub.waitFor((m) => m.topic === `${base}/cam/detect/state`, 5000, 'the state');
    pub.publish(pub.topic('cam', 'marker'), 'm', queued);
    await sub.waitFor((m) => m.topic === `${base}/cam/marker`, 5000, 'a marker after the flush');
    expect(sub.on(`${base}/cam/detect/state`).map((m) => m.payload.toString())).toEqual(['OFF']);
  });

  it('starts without a broker, holds messages in order, and delivers them when the broker comes', async () => {
    const broker = new TestBroker(await freePort());
    cleanups.push(() => broker.stop());
    const base = uniquePrefix('late');
    const pub = new MqttPublisher(options(broker.url, base, await memoryOutbox(3)), silentLogger());
    pub.start();
    cleanups.push(() => pub.stop(500));
    for (let i = 1; i <= 5; i++) pub.publish(pub.topic('cam', 'detections'), String(i), queued);
    for (let i = 1; i <= 3; i++) pub.publish(pub.topic('stats'), `stats ${i}`, { qos: 0, retain: true, offline: 'latest' });
    const held = pub.snapshot();
    expect(held.connected).toBe(false);
    expect(held.queued).toBe(4); // 3 detections + the newest stats
    expect(held.droppedOffline).toBe(2);

    await broker.start();
    const sub = await Subscriber.connect(`${base}/#`, broker.url);
    cleanups.push(() => sub.close());
    await until(() => pub.snapshot().connected, 10_000, 'publisher to connect');
    await sub.waitFor((m) => m.topic === `${base}/cam/detections` && m.payload.toString() === '5', 5000, 'last detection');
    await sub.waitFor((m) => m.topic === `${base}/stats`, 5000, 'stats');
    expect(sub.on(`${base}/cam/detections`).map((m) => m.payload.toString())).toEqual(['3', '4', '5']);
    expect(sub.on(`${base}/stats`).map((m) => m.payload.toString())).toEqual(['stats 3']);
    await until(() => pub.snapshot().queued === 0, 5000, 'the broker to acknowledge everything');
  });

  it('comes back after the broker restarts and re-announces online', async () => {
    const broker = new TestBroker(await freePort());
    cleanups.push(() => broker.stop());
    await broker.start();
    const base = uniquePrefix('restart');
    const pub = new MqttPublisher(options(broker.url, base, await memoryOutbox()), silentLogger());
    pub.start();
    cleanups.push(() => pub.stop(500));
    await until(() => pub.snapshot().connected, 5000, 'first connect');
    await broker.stop();
    await until(() => !pub.snapshot().connected, 5000, 'disconnect to be seen');
    pub.publish(pub.topic('cam', 'detections'), 'while-away', queued);
    await broker.start();
    const sub = await Subscriber.connect(`${base}/#`, broker.url);
    cleanups.push(() => sub.close());
    await sub.waitFor((m) => m.topic === `${base}/availability` && m.payload.toString() === 'online', 10_000, 'online again');
    await sub.waitFor((m) => m.payload.toString() === 'while-away', 5000, 'held message');
    expect(pub.snapshot().reconnects).toBeGreaterThan(0);
  });

  it('MQTT 5: detections carry the configured message expiry', async () => {
    const base = uniquePrefix('v5');
    const received: { expiry?: number }[] = [];
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, reconnectPeriod: 0 });
    client.on('message', (_t, _p, packet) => received.push({ expiry: packet.properties?.messageExpiryInterval }));
    await client.subscribeAsync(`${base}/cam/detections`, { qos: 1 });
    cleanups.push(() => client.endAsync());
    const pub = new MqttPublisher({ ...options('mqtt://127.0.0.1:1883', base, await memoryOutbox()), mqtt5: true }, silentLogger());
    pub.start();
    cleanups.push(() => pub.stop(500));
    await until(() => pub.snapshot().connected, 5000, 'connect');
    pub.publish(pub.topic('cam', 'detections'), '{}', { ...queued, expirySec: 30 });
    await until(() => received.length > 0, 5000, 'the detection');
    expect(received[0]!.expiry).toBeGreaterThan(25);
    expect(received[0]!.expiry).toBeLessThanOrEqual(30);
  });

  for (const mqtt5 of [false, true]) {
    // Mosquitto 2.0 closes the older connection without a DISCONNECT reason, on MQTT 5 too: the pattern tells.
    it(`says so when another client uses the same client id (MQTT ${mqtt5 ? '5' : '3.1.1'})`, async () => {
      const base = uniquePrefix('twin');
      const lines: Record<string, unknown>[] = [];
      const log = createLogger('warn', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
      const twins = [0, 1].map(async () => new MqttPublisher(options('mqtt://127.0.0.1:1883', base, await memoryOutbox(), { clientId: `${base}-same`, mqtt5 }), log));
      for (const p of await Promise.all(twins)) {
        p.start();
        cleanups.push(() => p.stop(500));
      }
      const warned = () => lines.find((l) => String(l.msg).includes('another client is probably using the same client id'));
      await until(() => warned() !== undefined, 20_000, 'the takeover warning');
      expect(warned()).toMatchObject({ clientId: `${base}-same`, msg: expect.stringContaining('give each daemon its own device.id (or mqtt.clientId)') });
      // Flapping is not a line a second: the loss is logged at most once a minute (with a count after).
      expect(lines.filter((l) => l.msg === 'MQTT connection lost; retrying with backoff').length).toBeLessThanOrEqual(2);
    }, 30_000);
  }

  it('says so at once when an MQTT 5 broker gives "session taken over" as the reason', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('warn', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const fake = Object.assign(new EventEmitter(), { connected: false, options: {}, publish: () => undefined, subscribe: () => undefined, end: () => undefined });
    const pub = new MqttPublisher(options('mqtt://127.0.0.1:1', 'fake', await memoryOutbox(), { mqtt5: true }), log, { connect: () => fake as unknown as MqttClient });
    pub.start();
    fake.emit('disconnect', { cmd: 'disconnect', reasonCode: 0x8e });
    expect(lines.map((l) => l.msg)).toEqual([
      'the broker says another connection took over the session: another client is probably using the same client id; give each daemon its own device.id (or mqtt.clientId)',
    ]);
    fake.emit('disconnect', { cmd: 'disconnect', reasonCode: 0 }); // a normal disconnect says nothing
    expect(lines).toHaveLength(1);
  });

  it('stopping with detections held in memory only says they are lost, not kept, and the snapshot counts them', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('warn', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const fake = Object.assign(new EventEmitter(), {
      connected: false,
      options: {},
      publish: () => undefined,
      subscribe: () => undefined,
      end: (_force: boolean, done: () => void) => done(),
    });
    const outbox = await memoryOutbox();
    const pub = new MqttPublisher(options('mqtt://127.0.0.1:1', 'memory-only', outbox), log, { connect: () => fake as unknown as MqttClient });
    pub.start();
    for (let i = 0; i < 3; i++) pub.publish(pub.topic('cam', 'detections'), String(i), queued);
    expect(pub.snapshot()).toMatchObject({ queued: 3, outbox: 'memory', outboxMemoryOnly: 3, outboxLost: 0 });
    await pub.stop(100);
    const stopping = lines.find((l) => /^stopping with detections/.test(String(l.msg)));
    expect(stopping).toMatchObject({ queued: 3, onDisk: 0, memoryOnly: 3 });
    expect(stopping!.msg).not.toMatch(/kept in the outbox/);
    expect(stopping!.msg).toMatch(/lost/);
    await outbox.close();
    expect(pub.snapshot()).toMatchObject({ queued: 0, outboxMemoryOnly: 0, outboxLost: 3 });
  });

  it('a detection too big for the outbox is reported as such, not as the outbox being full', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('warn', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const fake = Object.assign(new EventEmitter(), { connected: false, options: {}, publish: () => undefined, subscribe: () => undefined, end: () => undefined });
    const outbox = await Outbox.open({ dir: null, maxMessages: 100, maxBytes: 100 }, log);
    const pub = new MqttPublisher(options('mqtt://127.0.0.1:1', 'too-big', outbox, {}), log, { connect: () => fake as unknown as MqttClient });
    pub.start();
    for (let i = 0; i < 3; i++) pub.publish(pub.topic('cam', 'detections'), 'x'.repeat(200), queued);
    expect(pub.snapshot()).toMatchObject({ queued: 0, droppedOffline: 3 });
    const msgs = lines.map((l) => String(l.msg));
    expect(msgs.filter((m) => /mqtt\.outbox\.maxBytes/.test(m))).toHaveLength(1);
    expect(msgs.filter((m) => /outbox full/.test(m))).toEqual([]);
  });
});
