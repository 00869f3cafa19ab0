import { describe, expect, it } from 'vitest';
import { discoveryId, discoveryMessages, haTopics, removalMessages, topicLevel, type DiscoveryOptions } from '../../src/homeassistant/discovery.js';

/*
 * Keys each platform documents (long forms), from home-assistant.io source/_integrations/{sensor,binary_sensor,image}.mqtt.markdown.
 * Shared entity keys first; `platform` is left out on purpose (only for device-based discovery, which this is not).
 */
const COMMON = [
  'availability', 'availability_mode', 'availability_template', 'availability_topic', 'payload_available', 'payload_not_available',
  'device', 'default_entity_id', 'object_id', 'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'icon',
  'json_attributes_template', 'json_attributes_topic', 'name', 'qos', 'unique_id',
];
const ALLOWED: Record<string, Set<string>> = {
  sensor: new Set([...COMMON, 'device_class', 'expire_after', 'force_update', 'last_reset_value_template', 'options', 'suggested_display_precision', 'state_class', 'state_topic', 'unit_of_measurement', 'value_template']),
  binary_sensor: new Set([...COMMON, 'device_class', 'expire_after', 'force_update', 'off_delay', 'payload_off', 'payload_on', 'state_topic', 'value_template']),
  // image.mqtt documents no top-level payload_available / payload_not_available: only inside `availability`.
  image: new Set([...COMMON.filter((k) => k !== 'payload_available' && k !== 'payload_not_available'), 'content_type', 'image_encoding', 'image_topic', 'url_template', 'url_topic']),
};
const REQUIRED: Record<string, string[]> = {
  sensor: ['state_topic', 'unique_id', 'device', 'availability', 'name'],
  binary_sensor: ['state_topic', 'unique_id', 'device', 'availability', 'name'],
  image: ['image_topic', 'unique_id', 'device', 'availability', 'name'],
};
const DEVICE_KEYS = new Set(['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name', 'serial_number', 'suggested_area', 'sw_version', 'via_device']);
const AVAILABILITY_KEYS = new Set(['topic', 'payload_available', 'payload_not_available', 'value_template']);
const STATE_CLASSES = new Set(['measurement', 'measurement_angle', 'total', 'total_increasing']);

const opts: DiscoveryOptions = {
  discoveryPrefix: 'homeassistant',
  topicPrefix: 'mobilenet-edge',
  deviceId: 'pi4',
  version: '0.1.0',
  model: 'ssd_mobilenet_v2',
  cameras: [
    { name: 'front', labels: ['person', 'car'] },
    { name: 'back-yard', labels: ['person'] },
  ],
};

type Config = Record<string, unknown> & { device: Record<string, unknown>; availability: Record<string, unknown>[]; unique_id: string };
const parsed = () =>
  discoveryMessages(opts).map((m) => {
    const [prefix, component, node, object, last, ...rest] = m.topic.split('/');
    return { ...m, prefix, component: component as string, node, object, last, rest, config: JSON.parse(m.payload) as Config };
  });
const find = (component: string, object: string) => {
  const hit = parsed().find((m) => m.component === component && m.object === object);
  if (!hit) throw new Error(`no ${component}/${object}`);
  return hit.config;
};

describe('discoveryMessages', () => {
  it('publishes on <prefix>/<component>/<node_id>/<object_id>/config, retained, ids within [a-zA-Z0-9_-]', () => {
    const msgs = parsed();
    expect(msgs.length).toBe(2 + 2 * 3 + 3); // device-wide 2; per camera occupancy, snapshot, fps; 3 label counts
    for (const m of msgs) {
      expect(m.retain).toBe(true);
      expect(m.prefix).toBe('homeassistant');
      expect(['sensor', 'binary_sensor', 'image']).toContain(m.component);
      expect(m.node).toBe('pi4');
      expect(m.object).toMatch(/^[a-zA-Z0-9_-]+$/);
      expect(m.last).toBe('config');
      expect(m.rest).toEqual([]);
    }
    expect(new Set(msgs.map((m) => m.topic)).size).toBe(msgs.length);
  });

  it('uses only keys Home Assistant documents for each platform, and the ones it needs', () => {
    for (const m of parsed()) {
      const allowed = ALLOWED[m.component] as Set<string>;
      for (const key of Object.keys(m.config)) expect(allowed.has(key), `${m.component} key ${key} in ${m.topic}`).toBe(true);
      for (const key of REQUIRED[m.component] as string[]) expect(m.config, `${m.topic} lacks ${key}`).toHaveProperty(key);
      for (const key of Object.keys(m.config.device)) expect(DEVICE_KEYS.has(key), `device key ${key}`).toBe(true);
      for (const a of m.config.availability) for (const key of Object.keys(a)) expect(AVAILABILITY_KEYS.has(key), `availability key ${key}`).toBe(true);
      if ('state_class' in m.config) expect(STATE_CLASSES.has(m.config.state_class as string)).toBe(true);
    }
  });

  it('ties every entity to one device with the documented device fields', () => {
    const devices = new Set(parsed().map((m) => JSON.stringify(m.config.device)));
    expect(devices.size).toBe(1);
    expect(parsed()[0]?.config.device).toEqual({
      identifiers: ['mobilenet-edge-pi4'],
      name: 'mobilenet-edge pi4',
      manufacturer: 'mobilenet-edge',
      model: 'ssd_mobilenet_v2',
      sw_version: '0.1.0',
    });
  });

  it('wires availability to the daemon LWT topic and gives every entity a distinct unique_id', () => {
    const msgs = parsed();
    for (const m of msgs) expect(m.config.availability).toEqual([{ topic: 'mobilenet-edge/pi4/availability', payload_available: 'online', payload_not_available: 'offline' }]);
    const ids = msgs.map((m) => m.config.unique_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^mobilenet-edge-pi4-/);
  });

  it('has a unitless measurement count sensor per tracked label', () => {
    const c = find('sensor', 'front_person_count');
    expect(c).toMatchObject({ state_topic: 'mobilenet-edge/pi4/front/count/person', state_class: 'measurement' });
    expect(c).not.toHaveProperty('unit_of_measurement');
    expect(find('sensor', 'front_car_count').state_topic).toBe('mobilenet-edge/pi4/front/count/car');
    expect(find('sensor', 'back-yard_person_count').state_topic).toBe('mobilenet-edge/pi4/back-yard/count/person');
  });

  it('has an occupancy binary sensor, a snapshot image and a processed-fps sensor per camera', () => {
    expect(find('binary_sensor', 'front_occupancy')).toMatchObject({
      state_topic: 'mobilenet-edge/pi4/front/occupancy', payload_on: 'ON', payload_off: 'OFF', device_class: 'occupancy',
    });
    expect(find('image', 'front_snapshot')).toMatchObject({ image_topic: 'mobilenet-edge/pi4/front/snapshot', content_type: 'image/jpeg' });
    expect(find('sensor', 'front_fps')).toMatchObject({
      state_topic: 'mobilenet-edge/pi4/stats', value_template: "{{ value_json.cameras['front'].fps.processed }}", state_class: 'measurement',
    });
    // A dash would be subtraction in `value_json.cameras.back-yard`: indexing with a string works for any name.
    expect(find('sensor', 'back-yard_fps').value_template).toBe("{{ value_json.cameras['back-yard'].fps.processed }}");
  });

  it('has device-wide inference time and backend sensors', () => {
    expect(find('sensor', 'inference_ms')).toMatchObject({
      state_topic: 'mobilenet-edge/pi4/stats', value_template: '{{ value_json.detector.inferenceMs.p50 }}', unit_of_measurement: 'ms', state_class: 'measurement',
    });
    expect(find('sensor', 'detector_backend')).toMatchObject({ state_topic: 'mobilenet-edge/pi4/detector', value_template: '{{ value_json.backend }}' });
    expect(find('sensor', 'detector_backend')).not.toHaveProperty('state_class'); // a string state, not a number
  });

  it('sanitises ids, keeps topics publishable, and keeps unique_ids unique when names collide after sanitising', () => {
    const msgs = discoveryMessages({
      ...opts,
      deviceId: 'pi 4.kitchen',
      cameras: [{ name: "o'neil cam", labels: ['traffic light', 'traffic_light', 'a/b+#', 'person', 'person'] }],
    });
    for (const m of msgs) {
      const [, , node, object] = m.topic.split('/');
      expect(node).toMatch(/^pi_4_kitchen_[0-9a-f]{8}$/);
      expect(object).toMatch(/^[a-zA-Z0-9_-]+$/);
    }
    const configs = msgs.map((m) => JSON.parse(m.payload) as Config);
    expect(new Set(configs.map((c) => c.unique_id)).size).toBe(configs.length);
    expect(new Set(msgs.map((m) => m.topic)).size).toBe(msgs.length);
    const counts = configs.filter((c) => /_count(_\d+)?$/.test(c.unique_id));
    expect(counts).toHaveLength(4); // the duplicate 'person' is dropped
    // Each label count keeps its own topic: <prefix>/<device>/<camera>/count/<label>, five levels, no wildcards.
    for (const c of counts) expect((c.state_topic as string).split('/')).toHaveLength(5);
    for (const c of configs) expect((c.state_topic ?? c.image_topic) as string).not.toMatch(/[+#]/);
    expect(configs.find((c) => c.unique_id.endsWith('_fps'))?.value_template).toBe("{{ value_json.cameras['o\\'neil cam'].fps.processed }}");
  });
});

describe('removalMessages', () => {
  it('sends an empty retained payload on every discovery topic', () => {
    const add = discoveryMessages(opts);
    const remove = removalMessages(opts);
    expect(remove.map((m) => m.topic)).toEqual(add.map((m) => m.topic));
    for (const m of remove) expect(m).toEqual({ topic: m.topic, payload: '', retain: true });
  });
});

describe('non-Latin names', () => {
  it('two daemons named κήπος and σπίτι share no discovery topic and no unique_id (both were "_____")', () => {
    const a = discoveryMessages({ ...opts, deviceId: 'κήπος' });
    const b = discoveryMessages({ ...opts, deviceId: 'σπίτι' });
    const ids = (ms: typeof a) => ms.map((m) => (JSON.parse(m.payload) as { unique_id: string }).unique_id);
    expect(a.map((m) => m.topic).filter((t) => b.some((m) => m.topic === t))).toEqual([]);
    expect(ids(a).filter((id) => ids(b).includes(id))).toEqual([]);
    for (const m of [...a, ...b]) expect(m.topic.split('/')[2]).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(discoveryId('a b')).not.toBe(discoveryId('a_b'));
  });
});

describe('topic helpers', () => {
  it('sanitise ids and topic levels', () => {
    expect(discoveryId('front_door-2')).toBe('front_door-2'); // a valid id is kept as it is
    expect(discoveryId('a.b c/é')).toMatch(/^a_b_c___[0-9a-f]{8}$/);
    expect(discoveryId('')).toMatch(/^_[0-9a-f]{8}$/);
    expect(topicLevel('a/b+c#')).toBe('a_b_c_');
    expect(haTopics.labelCount('p/d', 'cam', 'x/y')).toBe('p/d/cam/count/x_y');
  });
});
