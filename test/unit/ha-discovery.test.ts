import { describe, expect, it } from 'vitest';
import { liveConfigurationUrl } from '../../src/homeassistant/configuration-url.js';
import {
  CAMERA_AVAILABLE_TEMPLATE,
  DEVICE_MODEL,
  EVENT_TYPES,
  discoveryId,
  discoveryMessages,
  haTopics,
  nodeId,
  removalMessages,
  topicLevel,
  type DiscoveryOptions,
} from '../../src/homeassistant/discovery.js';
import { CAMERA_LEVELS, cameraTopic } from '../../src/publish/camera-topics.js';

/*
 * Keys each platform documents (long forms), from home-assistant.io source/_integrations/{sensor,binary_sensor,image,
 * switch,button,event}.mqtt.markdown and the discovery schemas in homeassistant/components/mqtt (which drop unknown
 * keys silently: a misspelt key here would simply do nothing in Home Assistant).
 * Shared entity keys first; `platform` is left out on purpose (only for device-based discovery, which this is not).
 */
const COMMON = [
  'availability', 'availability_mode', 'availability_template', 'availability_topic', 'payload_available', 'payload_not_available',
  'device', 'default_entity_id', 'object_id', 'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'icon',
  'json_attributes_template', 'json_attributes_topic', 'name', 'origin', 'qos', 'unique_id',
];
const ALLOWED: Record<string, Set<string>> = {
  sensor: new Set([...COMMON, 'device_class', 'expire_after', 'force_update', 'last_reset_value_template', 'options', 'suggested_display_precision', 'state_class', 'state_topic', 'unit_of_measurement', 'value_template']),
  binary_sensor: new Set([...COMMON, 'device_class', 'expire_after', 'force_update', 'off_delay', 'payload_off', 'payload_on', 'state_topic', 'value_template']),
  // image.mqtt documents no top-level payload_available / payload_not_available: only inside `availability`.
  image: new Set([...COMMON.filter((k) => k !== 'payload_available' && k !== 'payload_not_available'), 'content_type', 'image_encoding', 'image_topic', 'url_template', 'url_topic']),
  switch: new Set([...COMMON, 'command_template', 'command_topic', 'device_class', 'optimistic', 'payload_off', 'payload_on', 'retain', 'state_off', 'state_on', 'state_topic', 'value_template']),
  button: new Set([...COMMON, 'command_template', 'command_topic', 'device_class', 'payload_press', 'retain']),
  event: new Set([...COMMON, 'device_class', 'event_types', 'state_topic', 'value_template']),
};
/** `origin` is required for device-based discovery and named in every per-entity config here, so HA logs say who sent it. */
const ALWAYS = ['unique_id', 'device', 'availability', 'name', 'origin'];
const REQUIRED: Record<string, string[]> = {
  sensor: [...ALWAYS, 'state_topic'],
  binary_sensor: [...ALWAYS, 'state_topic'],
  image: [...ALWAYS, 'image_topic'],
  switch: [...ALWAYS, 'command_topic', 'state_topic'],
  button: [...ALWAYS, 'command_topic'],
  event: [...ALWAYS, 'state_topic', 'event_types'],
};
const DEVICE_KEYS = new Set(['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name', 'serial_number', 'suggested_area', 'sw_version', 'via_device']);
const ORIGIN_KEYS = new Set(['name', 'sw_version', 'support_url']);
const AVAILABILITY_KEYS = new Set(['topic', 'payload_available', 'payload_not_available', 'value_template']);
const AVAILABILITY_MODES = new Set(['all', 'any', 'latest']);
const STATE_CLASSES = new Set(['measurement', 'measurement_angle', 'total', 'total_increasing']);

const opts: DiscoveryOptions = {
  discoveryPrefix: 'homeassistant',
  topicPrefix: 'mobilenet-edge',
  deviceId: 'pi4',
  version: '0.1.0',
  cameras: [
    { name: 'front', labels: ['person', 'car'], events: true, snapshots: true },
    { name: 'back-yard', labels: ['person'], events: true, snapshots: true },
  ],
};

type Config = Record<string, unknown> & {
  device: Record<string, unknown>;
  origin: Record<string, unknown>;
  availability: Record<string, unknown>[];
  unique_id: string;
};
const parse = (o: DiscoveryOptions) =>
  discoveryMessages(o).map((m) => {
    const [prefix, component, node, object, last, ...rest] = m.topic.split('/');
    return { ...m, prefix, component: component as string, node, object, last, rest, config: JSON.parse(m.payload) as Config };
  });
const parsed = () => parse(opts);
const find = (component: string, object: string, o = opts) => {
  const hit = parse(o).find((m) => m.component === component && m.object === object);
  if (!hit) throw new Error(`no ${component}/${object}`);
  return hit.config;
};
const daemonAvailability = { topic: 'mobilenet-edge/pi4/availability', payload_available: 'online', payload_not_available: 'offline' };

describe('discoveryMessages: the sub-label sensor', () => {
  it('exists for a camera a classifier runs on, reads the sub_label topic, and not for the others', () => {
    const o: DiscoveryOptions = { ...opts, cameras: [{ name: 'feeder', labels: [], events: true, snapshots: false, subLabel: true }, { name: 'porch', labels: [], events: true, snapshots: false }] };
    const sensor = find('sensor', 'feeder_sub_label', o);
    expect(sensor).toMatchObject({ state_topic: 'mobilenet-edge/pi4/feeder/sub_label', json_attributes_topic: 'mobilenet-edge/pi4/feeder/sub_label', value_template: '{{ value_json.subLabel }}' });
    for (const key of Object.keys(sensor)) expect(ALLOWED.sensor, key).toContain(key);
    expect(() => find('sensor', 'porch_sub_label', o)).toThrow('no sensor/porch_sub_label');
  });
});

describe('discoveryMessages', () => {
  it('publishes on <prefix>/<component>/<node_id>/<object_id>/config, retained, ids within [a-zA-Z0-9_-]', () => {
    const msgs = parsed();
    // device-wide 3; per camera fps, detect switch, occupancy, object event, snapshot image and button (6); 3 label counts
    expect(msgs.length).toBe(3 + 2 * 6 + 3);
    for (const m of msgs) {
      expect(m.retain).toBe(true);
      expect(m.prefix).toBe('homeassistant');
      expect(Object.keys(ALLOWED)).toContain(m.component);
      expect(m.node).toBe('pi4');
      expect(m.object).toMatch(/^[a-zA-Z0-9_-]+$/);
      expect(m.last).toBe('config');
      expect(m.rest).toEqual([]);
    }
    expect(new Set(msgs.map((m) => m.topic)).size).toBe(msgs.length);
  });

  it('uses only keys Home Assistant documents for each platform, and the ones it needs', () => {
    for (const m of parse({ ...opts, configurationUrl: 'http://pi4.local:9464/', supportUrl: 'https://example.org/mobilenet-edge' })) {
      const allowed = ALLOWED[m.component] as Set<string>;
      for (const key of Object.keys(m.config)) expect(allowed.has(key), `${m.component} key ${key} in ${m.topic}`).toBe(true);
      for (const key of REQUIRED[m.component] as string[]) expect(m.config, `${m.topic} lacks ${key}`).toHaveProperty(key);
      for (const key of Object.keys(m.config.device)) expect(DEVICE_KEYS.has(key), `device key ${key}`).toBe(true);
      for (const key of Object.keys(m.config.origin)) expect(ORIGIN_KEYS.has(key), `origin key ${key}`).toBe(true);
      for (const a of m.config.availability) {
        for (const key of Object.keys(a)) expect(AVAILABILITY_KEYS.has(key), `availability key ${key}`).toBe(true);
        expect(a).toHaveProperty('topic');
      }
      if ('availability_mode' in m.config) expect(AVAILABILITY_MODES.has(m.config.availability_mode as string)).toBe(true);
      if ('state_class' in m.config) expect(STATE_CLASSES.has(m.config.state_class as string)).toBe(true);
    }
  });

  it('names its origin (name, version, support url) in every config', () => {
    for (const m of parse({ ...opts, supportUrl: 'https://example.org/mobilenet-edge' })) {
      expect(m.config.origin).toEqual({ name: 'mobilenet-edge', sw_version: '0.1.0', support_url: 'https://example.org/mobilenet-edge' });
    }
    // No support URL known (the package names none): the key is left out, not sent empty (HA would refuse an empty URL).
    for (const m of parsed()) expect(m.config.origin).toEqual({ name: 'mobilenet-edge', sw_version: '0.1.0' });
  });

  it('ties every entity to one device whose model does not follow the model file; the model is a sensor', () => {
    const devices = new Set(parsed().map((m) => JSON.stringify(m.config.device)));
    expect(devices.size).toBe(1);
    expect(parsed()[0]?.config.device).toEqual({
      identifiers: ['mobilenet-edge-pi4'],
      name: 'mobilenet-edge pi4',
      manufacturer: 'mobilenet-edge',
      model: DEVICE_MODEL,
      sw_version: '0.1.0',
    });
    expect(find('sensor', 'detection_model')).toMatchObject({ state_topic: 'mobilenet-edge/pi4/stats', value_template: '{{ value_json.model }}', entity_category: 'diagnostic' });
  });

  it('links the device to the live page only when given a URL', () => {
    for (const m of parse({ ...opts, configurationUrl: 'http://pi4.local:9464/' })) expect(m.config.device.configuration_url).toBe('http://pi4.local:9464/');
    for (const m of parsed()) expect(m.config.device).not.toHaveProperty('configuration_url');
  });

  it('makes a camera entity available only while the daemon AND the camera are online; device entities and the detect switch follow the daemon', () => {
    const cameraStatus = (camera: string) => ({
      topic: `mobilenet-edge/pi4/${camera}/status`,
      value_template: CAMERA_AVAILABLE_TEMPLATE,
      payload_available: 'online',
      payload_not_available: 'offline',
    });
    for (const m of parsed()) {
      const camera = ['front', 'back-yard'].find((c) => m.object?.startsWith(`${c}_`));
      if (camera && m.component !== 'switch') {
        expect(m.config.availability, m.topic).toEqual([daemonAvailability, cameraStatus(camera)]);
        expect(m.config.availability_mode, m.topic).toBe('all');
      } else {
        expect(m.config.availability, m.topic).toEqual([daemonAvailability]);
        expect(m.config, m.topic).not.toHaveProperty('availability_mode');
      }
    }
    // The status is JSON {"state": "online"|"offline"|"error", ...}: only "online" may map to available, and HA ignores
    // a value that is neither payload, so "error" must come out as "offline" (and a missing/non-JSON payload too).
    expect(CAMERA_AVAILABLE_TEMPLATE).toBe("{{ 'online' if value_json is defined and value_json.state == 'online' else 'offline' }}");
  });

  it('gives every entity a distinct unique_id that holds the topic prefix and the device id', () => {
    const ids = parsed().map((m) => m.config.unique_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^mobilenet-edge-pi4:[a-z_]+:[a-zA-Z0-9_-]+$/);
    expect(find('sensor', 'front_person_count').unique_id).toBe('mobilenet-edge-pi4:sensor:front_person_count');
  });

  it('has a unitless measurement count sensor per tracked label, on <camera>/count/<label>', () => {
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

  it('has a detection switch, a take-snapshot button and an object event entity per camera, on the command and event topics', () => {
    expect(find('switch', 'front_detect')).toMatchObject({
      command_topic: 'mobilenet-edge/pi4/front/detect/set', state_topic: 'mobilenet-edge/pi4/front/detect/state', payload_on: 'ON', payload_off: 'OFF',
    });
    expect(find('switch', 'front_detect')).not.toHaveProperty('optimistic'); // the state topic answers: no guessing
    expect(find('button', 'front_take_snapshot')).toMatchObject({ command_topic: 'mobilenet-edge/pi4/front/snapshot/set', payload_press: 'PRESS' });
    expect(find('event', 'front_object')).toMatchObject({ state_topic: 'mobilenet-edge/pi4/front/events', event_types: ['new', 'update', 'end'] });
    expect(EVENT_TYPES).toEqual(['new', 'update', 'end']);
  });

  it('announces only the entities of the features that are on', () => {
    const o: DiscoveryOptions = { ...opts, cameras: [{ name: 'a', labels: [], events: false, snapshots: false }, { name: 'b', labels: ['cat'], events: true, snapshots: false }] };
    const objects = parse(o).map((m) => `${m.component}/${m.object}`);
    expect(objects.filter((x) => x.includes('/a_')).sort()).toEqual(['sensor/a_fps', 'switch/a_detect']);
    expect(objects.filter((x) => x.includes('/b_')).sort()).toEqual(['binary_sensor/b_occupancy', 'event/b_object', 'sensor/b_cat_count', 'sensor/b_fps', 'switch/b_detect']);
  });

  it('has a motion binary sensor for a camera with motion gating, and none without', () => {
    const o: DiscoveryOptions = { ...opts, cameras: [{ name: 'yard', labels: [], events: false, snapshots: false, motion: true }, { name: 'files', labels: [], events: false, snapshots: false }] };
    const msgs = parse(o);
    const motion = msgs.filter((m) => m.component === 'binary_sensor' && m.object?.endsWith('_motion'));
    expect(motion.map((m) => m.object)).toEqual(['yard_motion']);
    expect(motion[0]!.config).toMatchObject({ state_topic: 'mobilenet-edge/pi4/yard/motion', payload_on: 'ON', payload_off: 'OFF', device_class: 'motion' });
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
      cameras: [{ name: "o'neil cam", labels: ['traffic light', 'traffic_light', 'a/b+#', 'person', 'person'], events: true, snapshots: true }],
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
    for (const c of configs) for (const t of [c.state_topic, c.image_topic, c.command_topic].filter(Boolean)) expect(t as string).not.toMatch(/[+#]/);
    expect(configs.find((c) => c.unique_id.endsWith('_fps'))?.value_template).toBe("{{ value_json.cameras['o\\'neil cam'].fps.processed }}");
  });
});

describe('two daemons never share an entity', () => {
  const ids = (ms: ReturnType<typeof discoveryMessages>) => ms.map((m) => (JSON.parse(m.payload) as { unique_id: string }).unique_id);
  const shared = (a: ReturnType<typeof discoveryMessages>, b: ReturnType<typeof discoveryMessages>) => ({
    topics: a.map((m) => m.topic).filter((t) => b.some((m) => m.topic === t)),
    ids: ids(a).filter((id) => ids(b).includes(id)),
    devices: [...new Set(a.map((m) => JSON.stringify((JSON.parse(m.payload) as Config).device.identifiers)))].filter((d) =>
      b.some((m) => JSON.stringify((JSON.parse(m.payload) as Config).device.identifiers) === d),
    ),
  });

  it('named κήπος and σπίτι (both were "_____")', () => {
    const a = discoveryMessages({ ...opts, deviceId: 'κήπος' });
    const b = discoveryMessages({ ...opts, deviceId: 'σπίτι' });
    expect(shared(a, b)).toEqual({ topics: [], ids: [], devices: [] });
    for (const m of [...a, ...b]) expect(m.topic.split('/')[2]).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(discoveryId('a b')).not.toBe(discoveryId('a_b'));
  });

  it('with one device id under two topic prefixes (the prefix is part of the node id, the device and every unique_id)', () => {
    const a = discoveryMessages(opts);
    const b = discoveryMessages({ ...opts, topicPrefix: 'home/cams' });
    expect(shared(a, b)).toEqual({ topics: [], ids: [], devices: [] });
    expect(nodeId('mobilenet-edge', 'pi4')).toBe('pi4'); // the default prefix keeps the discovery topics where they were
    expect(nodeId('home/cams', 'pi4')).toMatch(/^pi4_[0-9a-f]{8}$/);
    expect((JSON.parse(b[0]!.payload) as Config).unique_id).toMatch(/^mobilenet-edge-home\/cams\/pi4:/);
  });

  it('when a device id and a camera name run into each other ("pi" + "garage-door" and "pi-garage" + "door")', () => {
    const a = discoveryMessages({ ...opts, deviceId: 'pi', cameras: [{ name: 'garage-door', labels: ['person'], events: true, snapshots: true }] });
    const b = discoveryMessages({ ...opts, deviceId: 'pi-garage', cameras: [{ name: 'door', labels: ['person'], events: true, snapshots: true }] });
    expect(shared(a, b)).toEqual({ topics: [], ids: [], devices: [] });
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

describe('topic helpers', () => {
  it('sanitise ids and topic levels', () => {
    expect(discoveryId('front_door-2')).toBe('front_door-2'); // a valid id is kept as it is
    expect(discoveryId('a.b c/é')).toMatch(/^a_b_c___[0-9a-f]{8}$/);
    expect(discoveryId('')).toMatch(/^_[0-9a-f]{8}$/);
    expect(topicLevel('a/b+c#')).toBe('a_b_c_');
    expect(haTopics.labelCount('p/d', 'cam', 'x/y')).toBe('p/d/cam/count/x_y');
  });

  it('never lets a label land on one of the camera topics, whatever it is called', () => {
    const base = 'p/d';
    const own = new Set<string>();
    for (const make of [cameraTopic.detections, cameraTopic.events, cameraTopic.status, cameraTopic.occupancy, cameraTopic.snapshot, cameraTopic.snapshotSet, cameraTopic.detectSet, cameraTopic.detectState]) {
      own.add(haTopics.camera(base, make('cam')));
    }
    for (const label of [...CAMERA_LEVELS, 'set', 'state', 'count', 'zones/x/y', '+', '#', '']) {
      const count = haTopics.labelCount(base, 'cam', label);
      expect(own.has(count), `label "${label}" -> ${count}`).toBe(false);
      expect(count.startsWith('p/d/cam/count/')).toBe(true);
      expect(count.split('/')).toHaveLength(5);
    }
  });
});

describe('liveConfigurationUrl', () => {
  it('links the machine name when the endpoint listens everywhere, the address when it listens on one, nothing on loopback', () => {
    expect(liveConfigurationUrl('0.0.0.0', 9464, 'pi4')).toBe('http://pi4.local:9464/');
    expect(liveConfigurationUrl('::', 9464, 'pi4.home.arpa')).toBe('http://pi4.home.arpa:9464/');
    expect(liveConfigurationUrl('192.168.1.20', 8080, 'pi4')).toBe('http://192.168.1.20:8080/');
    expect(liveConfigurationUrl('fd00::20', 8080, 'pi4')).toBe('http://[fd00::20]:8080/');
    // The viewer's browser runs elsewhere: 127.0.0.1 there is the viewer's own machine.
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.1.1']) expect(liveConfigurationUrl(host, 9464, 'pi4')).toBeUndefined();
  });
});
