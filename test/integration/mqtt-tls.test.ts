import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { silentLogger } from '../../src/system/logger.js';
import { Outbox } from '../../src/publish/outbox.js';
import { MqttPublisher, type PublisherOptions } from '../../src/publish/mqtt-publisher.js';
import { TestBroker, freePort } from '../helpers/broker.js';
import { makeTlsFiles, tlsBrokerConfig, type TlsFiles } from '../helpers/tls-broker.js';

const PASSWORD = 'correct-horse-battery';

function recordingLogger() {
  const lines: string[] = [];
  return { lines, log: pino({ level: 'debug' }, { write: (s: string) => lines.push(s) }) };
}

const until = async (cond: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
};

describe('MQTT over TLS with client certificates and a password', () => {
  let tls: TlsFiles;
  let broker: TestBroker;

  beforeAll(async () => {
    tls = makeTlsFiles();
    const port = await freePort();
    broker = new TestBroker(port, tlsBrokerConfig(tls, port, 'edge', PASSWORD));
    await broker.start();
  });
  afterAll(() => broker.stop());

  const opts = async ({ tls: tlsOver, ...over }: Omit<Partial<PublisherOptions>, 'tls'> & { tls?: Partial<PublisherOptions['tls']> }): Promise<PublisherOptions> => ({
    url: `mqtts://127.0.0.1:${broker.port}`,
    clientId: `tls-${Math.random().toString(36).slice(2)}`,
    username: 'edge',
    password: PASSWORD,
    keepaliveSec: 10,
    baseTopic: 'me-tls/test',
    outbox: await Outbox.open({ dir: null, maxMessages: 10, maxBytes: 1 << 20 }, silentLogger()),
    ...over,
    tls: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey, rejectUnauthorized: true, ...tlsOver },
  });

  it('connects with the CA, client certificate and password, and never logs the password', async () => {
    const { lines, log } = recordingLogger();
    const pub = new MqttPublisher(await opts({}), log);
    pub.start();
    expect(await until(() => pub.snapshot().connected, 10_000)).toBe(true);
    await pub.stop();
    expect(lines.join('\n')).toContain('connected to MQTT broker');
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });

  it('a wrong password: one clear warning, retries with backoff (mqtt.js alone gives up), no crash, still no password in the log', async () => {
    const { lines, log } = recordingLogger();
    const pub = new MqttPublisher(await opts({ password: 'wrong-secret-123' }), log);
    pub.start();
    // Attempts at about 0, 1 and 3 s.
    expect(await until(() => pub.snapshot().reconnects >= 2, 20_000)).toBe(true);
    expect(pub.snapshot()).toMatchObject({ connected: false, state: 'refused', reason: expect.stringMatching(/^(not authorised|bad user name or password): check mqtt\.username\/password/) });
    await pub.stop(500);
    const text = lines.join('\n');
    expect(lines.filter((l) => l.includes('MQTT broker refused the connection'))).toHaveLength(1);
    expect(text).not.toContain('wrong-secret-123');
  });

  it('a broker certificate from an unknown CA is refused with a clear reason', async () => {
    const { lines, log } = recordingLogger();
    const pub = new MqttPublisher(await opts({ tls: { ca: tls.otherCa } }), log);
    pub.start();
    await until(() => lines.some((l) => l.includes('certificate')), 8000);
    expect(pub.snapshot().connected).toBe(false);
    // A TLS failure is retried too (the CA may be fixed on the broker's side), and said once.
    expect(await until(() => pub.snapshot().reconnects >= 2, 20_000)).toBe(true);
    expect(pub.snapshot()).toMatchObject({ state: 'unreachable', reason: expect.stringMatching(/certificate/i) });
    await pub.stop(500);
    expect(lines.join('\n')).toMatch(/self[- ]signed certificate|unable to verify|certificate/i);
    expect(lines.filter((l) => l.includes('MQTT broker unreachable'))).toHaveLength(1);
  }, 60_000); // its two waits (8 s and 20 s) bound only failure, and together neared vitest's 30 s default
});
