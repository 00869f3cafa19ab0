import { describe, expect, it } from 'vitest';
import { mqttTlsProblems } from '../../src/config/mqtt-tls-check.js';
import { MqttPublisher } from '../../src/publish/mqtt-publisher.js';
import { Outbox } from '../../src/publish/outbox.js';
import { silentLogger } from '../../src/system/logger.js';

const NO_TLS = { ca: null, cert: null, key: null, rejectUnauthorized: true };

describe('mqttTlsProblems: TLS settings on a plain-text broker URL', () => {
  it('names the TLS key and what to do when mqtt.url is plain text', () => {
    expect(mqttTlsProblems({ url: 'mqtt://broker.lan:1883', tls: { ...NO_TLS, ca: '/etc/ssl/ca.crt' } })).toEqual([
      { key: 'mqtt.tls.ca', message: 'is set but mqtt.url is mqtt:// (plain text, TLS settings ignored): use mqtts:// (or remove mqtt.tls.ca)' },
    ]);
    expect(mqttTlsProblems({ url: 'tcp://broker.lan', tls: { ...NO_TLS, cert: 'c.pem', key: 'k.pem' } })).toEqual([
      { key: 'mqtt.tls.cert', message: 'is set but mqtt.url is tcp:// (plain text, TLS settings ignored): use mqtts:// (or remove mqtt.tls.cert, mqtt.tls.key)' },
    ]);
    expect(mqttTlsProblems({ url: 'ws://broker.lan/mqtt', tls: { ...NO_TLS, rejectUnauthorized: false } })).toEqual([
      { key: 'mqtt.tls.rejectUnauthorized', message: 'is set but mqtt.url is ws:// (plain text, TLS settings ignored): use wss:// (or remove mqtt.tls.rejectUnauthorized)' },
    ]);
  });

  it('says nothing for a TLS URL, for a plain URL without TLS settings, or for a URL its own check refuses', () => {
    const all = { ca: 'ca.crt', cert: 'c.pem', key: 'k.pem', rejectUnauthorized: false };
    for (const url of ['mqtts://broker.lan:8883', 'ssl://broker.lan', 'wss://broker.lan/mqtt']) expect(mqttTlsProblems({ url, tls: all }), url).toEqual([]);
    expect(mqttTlsProblems({ url: 'mqtt://127.0.0.1:1883', tls: NO_TLS })).toEqual([]);
    expect(mqttTlsProblems({ url: 'not a url', tls: all })).toEqual([]);
  });

  it('the publisher refuses to start on it rather than connect in plain text', async () => {
    const outbox = await Outbox.open({ dir: null, maxMessages: 10, maxBytes: 1 << 20 }, silentLogger());
    const options = { url: 'mqtt://127.0.0.1:1883', clientId: 'x', username: 'u', password: 'p', keepaliveSec: 10, baseTopic: 'me-test/tls-check', outbox };
    expect(() => new MqttPublisher({ ...options, tls: { ...NO_TLS, ca: '/etc/ssl/ca.crt' } }, silentLogger())).toThrow(
      'mqtt.tls.ca: is set but mqtt.url is mqtt:// (plain text, TLS settings ignored): use mqtts:// (or remove mqtt.tls.ca)',
    );
  });
});
