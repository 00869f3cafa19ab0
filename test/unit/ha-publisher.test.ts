import { describe, expect, it } from 'vitest';
import { discoveryMessages, nodeId, type DiscoveryOptions } from '../../src/homeassistant/discovery.js';
import { publishDiscovery, type DiscoveryLink } from '../../src/homeassistant/ha-publisher.js';
import type { MessageHandler } from '../../src/publish/mqtt-publisher.js';
import { topicMatches } from '../../src/publish/topic-filter.js';
import { silentLogger } from '../../src/system/logger.js';

/** A broker stand-in: records publishes, and delivers a message to every handler whose filter matches. */
function fakeLink(connected = true) {
  const published: { topic: string; payload: string; retain: boolean }[] = [];
  const handlers: [string, MessageHandler][] = [];
  const link: DiscoveryLink = {
    publish: (topic, payload, o) => published.push({ topic, payload: payload.toString(), retain: o.retain }),
    onConnect: () => undefined,
    subscribe: (filter, handler) => handlers.push([filter, handler]),
    snapshot: () => ({ connected }),
  };
  const deliver = (topic: string, payload: string, retained: boolean): void => {
    for (const [filter, handler] of handlers) if (topicMatches(filter, topic)) handler(Buffer.from(payload), topic, retained);
  };
  return { link, published, handlers, deliver };
}

const opts: DiscoveryOptions = {
  discoveryPrefix: 'ha',
  topicPrefix: 'mobilenet-edge',
  deviceId: 'pi4',
  version: '0.2.0',
  cameras: [{ name: 'front', labels: ['person'], events: true, snapshots: true }],
};

describe('publishDiscovery: what a previous run announced', () => {
  it('subscribes to its own config topics before it publishes, so the broker hands back what the last run left', () => {
    const { link, handlers, published } = fakeLink();
    let publishedWhenSubscribed = -1;
    const subscribe = link.subscribe;
    link.subscribe = (filter, handler) => {
      if (filter === 'ha/+/pi4/+/config') publishedWhenSubscribed = published.length;
      subscribe(filter, handler);
    };
    publishDiscovery(link, () => opts, silentLogger());
    expect(handlers.map(([f]) => f)).toContain('ha/+/pi4/+/config');
    expect(publishedWhenSubscribed).toBe(0);
    expect(published.length).toBe(discoveryMessages(opts).length);
  });

  it('clears (empty retained payload) a config it no longer announces: a removed label, camera or feature', () => {
    const { link, published, deliver } = fakeLink();
    publishDiscovery(link, () => opts, silentLogger());
    const before = published.length;
    // What an earlier run with a `dog` label and a `back` camera left retained:
    const old = discoveryMessages({ ...opts, cameras: [{ name: 'front', labels: ['person', 'dog'], events: true, snapshots: true }, { name: 'back', labels: [], events: true, snapshots: true }] });
    for (const m of old) deliver(m.topic, m.payload, true);
    const cleared = published.slice(before);
    const gone = old.map((m) => m.topic).filter((t) => !discoveryMessages(opts).some((m) => m.topic === t));
    expect(gone).toContain('ha/sensor/pi4/front_dog_count/config');
    expect(gone.filter((t) => t.includes('/back_')).length).toBeGreaterThanOrEqual(6);
    expect(cleared).toEqual(gone.map((topic) => ({ topic, payload: '', retain: true })));
  });

  it('leaves alone what it announces now, messages that are not retained, and empty payloads', () => {
    const { link, published, deliver } = fakeLink();
    publishDiscovery(link, () => opts, silentLogger());
    const before = published.length;
    for (const m of discoveryMessages(opts)) deliver(m.topic, m.payload, true);
    deliver('ha/sensor/pi4/front_dog_count/config', '{"unique_id":"x"}', false); // a live publish, e.g. our own echo
    deliver('ha/sensor/pi4/front_cat_count/config', '', true);
    expect(published.slice(before)).toEqual([]);
  });

  it('re-creates an entity an older version announced under another unique_id: removed first, then announced', () => {
    const { link, published, deliver } = fakeLink();
    publishDiscovery(link, () => opts, silentLogger());
    const before = published.length;
    const now = discoveryMessages(opts).find((m) => m.topic === 'ha/sensor/pi4/front_person_count/config')!;
    deliver(now.topic, JSON.stringify({ ...JSON.parse(now.payload), unique_id: 'mobilenet-edge-pi4-front_person_count' }), true);
    expect(published.slice(before)).toEqual([
      { topic: now.topic, payload: '', retain: true },
      { topic: now.topic, payload: now.payload, retain: true },
    ]);
  });

  it('with a topic prefix of its own, also clears what it left under the bare device id, but not another daemon\'s configs', () => {
    const mine: DiscoveryOptions = { ...opts, topicPrefix: 'home/cams' };
    const { link, published, deliver } = fakeLink();
    publishDiscovery(link, () => mine, silentLogger());
    expect(nodeId('home/cams', 'pi4')).not.toBe('pi4');
    const before = published.length;
    const config = (availability: string) => JSON.stringify({ unique_id: 'u', availability: [{ topic: availability }] });
    deliver('ha/sensor/pi4/front_fps/config', config('home/cams/pi4/availability'), true); // ours, from before
    deliver('ha/sensor/pi4/front_person_count/config', config('mobilenet-edge/pi4/availability'), true); // another daemon
    deliver('ha/sensor/pi4/front_occupancy/config', 'not json', true);
    expect(published.slice(before)).toEqual([{ topic: 'ha/sensor/pi4/front_fps/config', payload: '', retain: true }]);
  });
});

describe('topicMatches', () => {
  it('follows MQTT filter rules', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/d')).toBe(false);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/b', 'a/b')).toBe(true);
    expect(topicMatches('a/b/c', 'a/b')).toBe(false);
    expect(topicMatches('+/+/x/+/config', 'ha/sensor/x/y/config')).toBe(true);
  });
});
