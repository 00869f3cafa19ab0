import type { MessageHandler, PublishOptions } from '../publish/mqtt-publisher.js';
import type { Logger } from '../system/logger.js';
import { discoveryFilter, discoveryId, discoveryMessages, haTopics, nodeId, type DiscoveryOptions } from './discovery.js';

/** What discovery needs of the MQTT publisher. */
export interface DiscoveryLink {
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): void;
  onConnect(hook: () => void): void;
  subscribe(filter: string, handler: MessageHandler): void;
  snapshot(): { connected: boolean };
}

const RETAINED: PublishOptions = { qos: 1, retain: true, offline: 'latest' };

/**
 * Home Assistant MQTT discovery: the entities are published (retained) on every connect and again whenever Home
 * Assistant announces itself online on `<discoveryPrefix>/status` (it forgets non-retained state when it restarts).
 *
 * What a previous run announced is read back from the broker, not from a list of our own: at connect we subscribe
 * to our node's config topics, and the broker hands us what it retains there. A config we no longer publish (a
 * label, camera or feature left the config) is cleared with an empty retained payload, which makes HA remove the
 * entity. The broker's store is what HA reads, so it is the list that matters: a list in the state directory could
 * disagree with it (no state directory outside systemd, a wiped broker, a device id moved to another machine).
 */
export function publishDiscovery(link: DiscoveryLink, opts: () => DiscoveryOptions, log: Logger): void {
  /** Topic -> config of what we announce now. */
  let announced = new Map<string, string>();
  const current = (): Map<string, string> => new Map(discoveryMessages(opts()).map((m) => [m.topic, m.payload]));
  const send = (why: string): void => {
    announced = current();
    for (const [topic, payload] of announced) link.publish(topic, payload, RETAINED);
    log.info({ entities: announced.size, why }, 'Home Assistant discovery published');
  };

  const { discoveryPrefix, topicPrefix, deviceId } = opts();
  const node = nodeId(topicPrefix, deviceId);
  // Subscribed before the first send (the publisher subscribes before it runs its connect hooks), so what the broker
  // hands back is what the previous run left, not what we are about to publish.
  link.subscribe(discoveryFilter(discoveryPrefix, node), (payload, topic, retained) => {
    if (!retained || payload.length === 0) return;
    if (announced.size === 0) announced = current();
    const ours = announced.get(topic);
    if (ours === undefined) {
      link.publish(topic, '', RETAINED);
      log.info({ topic }, 'Home Assistant entity removed: no longer in the config');
    } else if (uniqueIdIn(payload.toString()) !== uniqueIdIn(ours)) {
      // An older version announced this entity under another unique_id. HA keeps the unique_id an entity was created
      // with, so the old entity is removed first, then created again (same name, so the same entity_id).
      link.publish(topic, '', RETAINED);
      link.publish(topic, ours, RETAINED);
      log.info({ topic }, 'Home Assistant entity re-created under its new unique_id');
    }
  });
  const legacyNode = discoveryId(deviceId);
  if (legacyNode !== node) {
    // Before the topic prefix was part of the node id, this daemon announced under the bare device id. Another daemon
    // with the same device id may still live there: only configs that point at our availability topic are ours.
    const availability = haTopics.availability(haTopics.base(topicPrefix, deviceId));
    link.subscribe(discoveryFilter(discoveryPrefix, legacyNode), (payload, topic, retained) => {
      if (!retained || payload.length === 0 || !pointsAt(payload.toString(), availability)) return;
      link.publish(topic, '', RETAINED);
      log.info({ topic }, 'Home Assistant entity removed from its old discovery topic (the topic prefix is now part of the node id)');
    });
  }

  link.onConnect(() => send('connected'));
  if (link.snapshot().connected) send('start');
  link.subscribe(`${discoveryPrefix}/status`, (payload) => {
    if (payload.toString() === 'online') send('Home Assistant came online');
  });
}

function parse(config: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(config);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function uniqueIdIn(config: string): unknown {
  return parse(config)?.unique_id;
}

function pointsAt(config: string, availabilityTopic: string): boolean {
  const list = parse(config)?.availability;
  return Array.isArray(list) && list.some((a) => (a as { topic?: unknown } | null)?.topic === availabilityTopic);
}
