import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MqttPublisher } from '../../src/publish/mqtt-publisher.js';
import { Outbox } from '../../src/publish/outbox.js';
import { describeRefusal } from '../../src/publish/connack-refusal.js';
import { ReconnectBackoff } from '../../src/publish/reconnect-backoff.js';
import { createLogger, silentLogger } from '../../src/system/logger.js';
import { FakeBroker } from '../helpers/fake-broker.js';

/** Every MQTT 3.1.1 return code that refuses a CONNECT. */
const V3_REFUSALS = [1, 2, 3, 4, 5];
/** The MQTT 5 reason codes a broker may put in a refusing CONNACK (spec 3.2.2.2). */
const V5_REFUSALS = [0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f];

interface Rig {
  pub: MqttPublisher;
  broker: FakeBroker;
  lines: Record<string, unknown>[];
  /** The mqtt.js client the publisher made. */
  client: () => MqttClient;
}

const rigs: Rig[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const r of rigs.splice(0)) {
    await r.pub.stop(100);
    await r.broker.stop();
  }
});

/**
 * A publisher on a fake broker under fake timers (Date included): the reconnect waits are mqtt.js timers, advanced by
 * hand; sockets stay real, so every wait for the broker is on an event, never on the clock.
 */
async function rig(broker: FakeBroker, mqtt5 = false): Promise<Rig> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const port = await broker.start();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const outbox = await Outbox.open({ dir: null, maxMessages: 100, maxBytes: 1 << 20 }, silentLogger());
  let client: MqttClient | undefined;
  const pub = new MqttPublisher(
    {
      url: `mqtt://127.0.0.1:${port}`,
      clientId: 'fake-broker-client',
      username: 'edge',
      password: 'secret',
      keepaliveSec: 0,
      mqtt5,
      baseTopic: 'me-test/fake',
      outbox,
      tls: { ca: null, cert: null, key: null, rejectUnauthorized: true },
    },
    log,
    {
      connect: (url, options) => (client = mqtt.connect(url, options)),
      random: () => 0, // the shortest jitter: waits of exactly 75 % of each step
    },
  );
  const r = { pub, broker, lines, client: () => client! };
  rigs.push(r);
  return r;
}

/** The next `event` of the client (events.once would reject on the 'error' that comes before a refusal's close). */
const next = (client: MqttClient, event: 'close' | 'connect'): Promise<void> => new Promise((resolve) => client.once(event, () => resolve()));

/** Starts the publisher and waits for its first attempt to end. */
async function startAndFail(r: Rig): Promise<void> {
  r.pub.start();
  await next(r.client(), 'close');
}

/** Moves the clock to the next attempt and waits for it to end (closed) or succeed (connect). */
async function nextAttempt(r: Rig, waitMs: number, outcome: 'close' | 'connect' = 'close'): Promise<void> {
  const ended = next(r.client(), outcome);
  const before = r.pub.snapshot().reconnects;
  vi.advanceTimersByTime(waitMs);
  // mqtt.js starts the attempt in the timer callback: none means it gave up retrying.
  expect(r.pub.snapshot().reconnects, `an attempt ${waitMs} ms later`).toBe(before + 1);
  await ended;
}

const warnings = (r: Rig): string[] => r.lines.filter((l) => l.level === 40).map((l) => String(l.msg));

describe('ReconnectBackoff', () => {
  it('waits 1 s doubling to 30 s, each wait 75-100 % of its step, and starts over after a reset', () => {
    const low = new ReconnectBackoff(() => 0);
    expect(Array.from({ length: 8 }, () => low.next())).toEqual([750, 1500, 3000, 6000, 12_000, 22_500, 22_500, 22_500]);
    const high = new ReconnectBackoff(() => 0.99999);
    expect(Array.from({ length: 8 }, () => high.next())).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    high.reset();
    expect(high.next()).toBe(1000);
    // Hours of outage do not overflow the step.
    const long = new ReconnectBackoff(() => 0.99999);
    expect(Math.max(...Array.from({ length: 10_000 }, () => long.next()))).toBe(30_000);
  });
});

describe('MqttPublisher reconnects after every kind of refusal', () => {
  it('keeps to the backoff schedule whatever ends each attempt: refusals and hang-ups alike', async () => {
    const broker = new FakeBroker(5);
    broker.answers.push(5, 'hang-up', 3, 4, 'hang-up', 5, 2);
    const r = await rig(broker);
    await startAndFail(r);
    const waits = [750, 1500, 3000, 6000, 12_000, 22_500, 22_500];
    for (const [i, wait] of waits.entries()) {
      vi.advanceTimersByTime(wait - 1);
      expect(r.pub.snapshot().reconnects, `no attempt before wait ${i} is over`).toBe(i);
      await nextAttempt(r, 1);
      expect(r.pub.snapshot().reconnects).toBe(i + 1);
    }
    expect(broker.connects.map((c) => c.answer)).toEqual([5, 'hang-up', 3, 4, 'hang-up', 5, 2, 5]);
    expect(r.pub.snapshot()).toMatchObject({ connected: false, state: 'refused', reason: describeRefusal(5) });
  });

  for (const [version, codes] of [
    [4, V3_REFUSALS],
    [5, V5_REFUSALS],
  ] as const) {
    it(`MQTT ${version === 4 ? '3.1.1' : '5'}: every refusing code is retried, said in words once, and the broker taken back when it accepts`, async () => {
      for (const code of codes) {
        const broker = new FakeBroker(0);
        broker.answers.push(code, code);
        const r = await rig(broker, version === 5);
        await startAndFail(r);
        await nextAttempt(r, 750);
        expect(r.pub.snapshot(), `code ${code}`).toMatchObject({ connected: false, state: 'refused', reason: describeRefusal(code) });
        await nextAttempt(r, 1500, 'connect');
        expect(r.pub.snapshot(), `code ${code}`).toMatchObject({ connected: true, state: 'connected', reason: null, downSince: null });
        expect(broker.connects.map((c) => c.level)).toEqual([version, version, version]);
        // One line for the refusal (two attempts), one for the connect.
        expect(warnings(r), `code ${code}`).toEqual([`MQTT broker refused the connection (${describeRefusal(code)}); retrying with backoff`]);
        expect(r.lines.find((l) => l.msg === 'connected to MQTT broker'), `code ${code}`).toMatchObject({ downForSec: 2, attempts: 2 });
        vi.useRealTimers();
        await r.pub.stop(100);
        await broker.stop();
        rigs.splice(rigs.indexOf(r), 1);
      }
    });
  }

  it('names the refusals a user can fix by the config key to look at', () => {
    expect(describeRefusal(5)).toBe("not authorised: check mqtt.username/password and the broker's ACL");
    expect(describeRefusal(0x87)).toBe(describeRefusal(5));
    expect(describeRefusal(4)).toBe('bad user name or password: check mqtt.username/password');
    expect(describeRefusal(0x86)).toBe(describeRefusal(4));
    expect(describeRefusal(3)).toMatch(/^server unavailable/);
    expect(describeRefusal(0x8a)).toMatch(/^banned/);
    expect(describeRefusal(0x84)).toContain('mqtt.detectionExpirySec');
    expect(describeRefusal(0xa0)).toBe('reason code 160 (0xa0), unknown to this daemon');
  });
});

describe('MqttPublisher logs a long outage once per change, with a reminder at most once a minute', () => {
  it('refused for ten minutes: one line, then a reminder about every minute; a new cause is a new line; back: one line', async () => {
    const broker = new FakeBroker(5);
    const r = await rig(broker);
    r.pub.publish('me-test/fake/cam/detections', 'held', { qos: 1, retain: false, offline: 'queue' });
    await startAndFail(r);
    const backoff = new ReconnectBackoff(() => 0); // the publisher's schedule, step for step
    let elapsed = 0;
    while (elapsed < 600_000) {
      const wait = backoff.next();
      await nextAttempt(r, wait);
      elapsed += wait;
    }
    const refused = `MQTT broker refused the connection (${describeRefusal(5)}); retrying with backoff`;
    const reminders = r.lines.filter((l) => String(l.msg).startsWith('MQTT still refused after'));
    expect(warnings(r)[0]).toBe(refused);
    expect(warnings(r).filter((m) => m === refused)).toHaveLength(1);
    // Ten minutes at one attempt every 22.5 s: 9 or 10 reminders, never two within a minute.
    expect(reminders.length).toBeGreaterThanOrEqual(8);
    expect(reminders.length).toBeLessThanOrEqual(10);
    const times = reminders.map((l) => Date.parse(String(l.time)));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(60_000);
    expect(reminders.at(-1)).toMatchObject({ reason: describeRefusal(5), queued: 1, attempts: expect.any(Number), downForSec: expect.any(Number) });
    expect(r.pub.snapshot().downSince).toBe(r.lines[0]!.time); // down since the start: never connected

    broker.answers.push('hang-up');
    await nextAttempt(r, 22_500);
    expect(warnings(r).at(-1)).toBe('MQTT broker unreachable (the broker closed the connection before accepting it); retrying with backoff');
    expect(r.pub.snapshot()).toMatchObject({ state: 'unreachable', reason: 'the broker closed the connection before accepting it' });

    broker.then = 0;
    const lineCount = r.lines.length;
    await nextAttempt(r, 22_500, 'connect');
    expect(r.lines.slice(lineCount).map((l) => l.msg)).toEqual(['connected to MQTT broker', 'sending detections held while the broker was away']);
  });
});
