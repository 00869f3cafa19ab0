/**
 * Measures how long after a broker that refused the login starts accepting it the publisher is connected again, for
 * several lengths of refusal: a private mosquitto refuses the password for S seconds, then its password file is
 * rewritten and it is sent SIGHUP. The answer is bounded by the backoff wait in progress (at most 30 s). Usage:
 *   npx tsx scripts/mqtt-reconnect-time.ts [SECONDS...]      (default: 0.5 2 5 10 20 45 70)
 */
import { MqttPublisher } from '../src/publish/mqtt-publisher.js';
import { Outbox } from '../src/publish/outbox.js';
import { silentLogger } from '../src/system/logger.js';
import { TestBroker, freePort, passwordBrokerConfig, writePasswordFile } from '../test/helpers/broker.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const lengths = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [0.5, 2, 5, 10, 20, 45, 70];

for (const refusedSec of lengths) {
  const port = await freePort();
  const { config, passwordFile } = passwordBrokerConfig(port, 'edge', 'old-password');
  const broker = new TestBroker(port, config);
  await broker.start();
  const outbox = await Outbox.open({ dir: null, maxMessages: 10, maxBytes: 1 << 20 }, silentLogger());
  const pub = new MqttPublisher(
    {
      url: broker.url,
      clientId: `reconnect-time-${port}`,
      username: 'edge',
      password: 'new-password',
      keepaliveSec: 10,
      baseTopic: 'me-reconnect-time/x',
      outbox,
      tls: { ca: null, cert: null, key: null, rejectUnauthorized: true },
    },
    silentLogger(),
  );
  pub.start();
  await sleep(refusedSec * 1000);
  writePasswordFile(passwordFile, 'edge', 'new-password');
  const attempts = pub.snapshot().reconnects + 1;
  const acceptedAt = Date.now();
  broker.reload();
  while (!pub.snapshot().connected) await sleep(5);
  console.log(JSON.stringify({ refusedSec, attemptsWhileRefused: attempts, reconnectMs: Date.now() - acceptedAt }));
  await pub.stop(500);
  await broker.stop();
}
