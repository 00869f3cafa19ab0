import { afterEach, describe, expect, it } from 'vitest';
import { MqttPublisher } from '../../src/publish/mqtt-publisher.js';
import { Outbox } from '../../src/publish/outbox.js';
import { createLogger, silentLogger } from '../../src/system/logger.js';
import { TestBroker, freePort, passwordBrokerConfig, writePasswordFile } from '../helpers/broker.js';
import { Subscriber, uniquePrefix } from '../helpers/mqtt.js';
import { until } from '../helpers/wait.js';

/**
 * A broker that refuses the login, then accepts it (the password fixed, or Home Assistant's broker add-on back from a
 * restart): the publisher must keep trying by itself. mqtt.js 5 gives up after a refused CONNACK unless told not to.
 */
describe('MqttPublisher against a broker that refuses the login, then accepts it', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('retries with backoff, says "refused" once with the reason in words, reconnects by itself and delivers what was held', async () => {
    const port = await freePort();
    const { config, passwordFile } = passwordBrokerConfig(port, 'edge', 'old-password');
    const broker = new TestBroker(port, config);
    await broker.start();
    cleanups.push(() => broker.stop());

    const lines: Record<string, unknown>[] = [];
    const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const base = uniquePrefix('refused');
    const outbox = await Outbox.open({ dir: null, maxMessages: 100, maxBytes: 1 << 20 }, silentLogger());
    const pub = new MqttPublisher(
      {
        url: broker.url,
        clientId: `${base}-client`,
        username: 'edge',
        password: 'new-password',
        keepaliveSec: 10,
        baseTopic: base,
        outbox,
        tls: { ca: null, cert: null, key: null, rejectUnauthorized: true },
      },
      log,
    );
    pub.start();
    cleanups.push(() => pub.stop(500));

    // Attempts at about 0, 1 and 3 s: two retries after the first refusal show it is not stuck.
    await until(() => pub.snapshot().reconnects >= 2 && pub.snapshot().state === 'refused', 20_000, 'two retries of the refused login');
    const refusedLines = lines.filter((l) => String(l.msg).startsWith('MQTT broker refused the connection'));
    expect(refusedLines).toHaveLength(1); // one line for the change of state, none per retry
    expect(refusedLines[0]).toMatchObject({ level: 40, reason: expect.stringMatching(/^(not authorised|bad user name or password): check mqtt\.username\/password/) });
    expect(pub.snapshot()).toMatchObject({ connected: false, state: 'refused', reason: expect.stringContaining('check mqtt.username/password') });
    expect(JSON.stringify(lines)).not.toContain('new-password');
    pub.publish(pub.topic('cam', 'detections'), 'held while refused', { qos: 1, retain: false, offline: 'queue' });

    // The password is fixed on the broker's side: it reads its password file again on SIGHUP.
    writePasswordFile(passwordFile, 'edge', 'new-password');
    const attemptsBefore = pub.snapshot().reconnects;
    const acceptedAt = Date.now();
    broker.reload();
    // At most one backoff wait (30 s at most, jittered below) plus the connect itself.
    await until(() => pub.snapshot().connected, 45_000, 'the publisher to reconnect by itself');
    const reconnectMs = Date.now() - acceptedAt;
    console.info(`reconnected ${reconnectMs} ms after the broker started accepting (${pub.snapshot().reconnects - attemptsBefore} attempt(s) since); log: ${lines.map((l) => String(l.msg)).join(" | ")}`);

    const sub = await Subscriber.connect(`${base}/#`, `mqtt://edge:new-password@127.0.0.1:${port}`);
    cleanups.push(() => sub.close());
    await until(() => pub.snapshot().queued === 0, 10_000, 'the held detection to be acknowledged');
    expect(pub.snapshot()).toMatchObject({ connected: true, state: 'connected', reason: null, downSince: null });
    // A detection published now goes straight through.
    pub.publish(pub.topic('cam', 'detections'), 'after', { qos: 1, retain: false, offline: 'queue' });
    await sub.waitFor((m) => m.payload.toString() === 'after', 10_000, 'a detection after the reconnect');
    const connectedLines = lines.filter((l) => l.msg === 'connected to MQTT broker');
    expect(connectedLines).toHaveLength(1);
    expect(connectedLines[0]).toMatchObject({ downForSec: expect.any(Number), attempts: expect.any(Number) });
  }, 90_000);
});
