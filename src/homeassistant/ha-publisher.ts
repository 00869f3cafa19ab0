import type { MqttPublisher } from '../publish/mqtt-publisher.js';
import type { Logger } from '../system/logger.js';
import { discoveryMessages, type DiscoveryOptions } from './discovery.js';

/**
 * Home Assistant MQTT discovery: the entities are published (retained) on every connect and again whenever Home
 * Assistant announces itself online on `<discoveryPrefix>/status` (it forgets non-retained state when it restarts).
 */
export function publishDiscovery(publisher: MqttPublisher, opts: () => DiscoveryOptions, log: Logger): void {
  const send = (why: string): void => {
    const messages = discoveryMessages(opts());
    for (const m of messages) publisher.publish(m.topic, m.payload, { qos: 1, retain: true, offline: 'latest' });
    log.info({ entities: messages.length, why }, 'Home Assistant discovery published');
  };
  publisher.onConnect(() => send('connected'));
  if (publisher.snapshot().connected) send('start');
  publisher.subscribe(`${opts().discoveryPrefix}/status`, (payload) => {
    if (payload.toString() === 'online') send('Home Assistant came online');
  });
}
