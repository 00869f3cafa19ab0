/**
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): one retained config
 * message per entity on `<discoveryPrefix>/<component>/<node_id>/<object_id>/config`, all tied to one device per
 * daemon. Keys are the long forms documented on the per-platform pages (sensor.mqtt, binary_sensor.mqtt, image.mqtt,
 * switch.mqtt, button.mqtt, event.mqtt). Home Assistant drops keys it does not know without a word, so a typo here
 * fails silently there: test/unit/ha-discovery.test.ts checks every key against the documented ones.
 */
import { createHash } from 'node:crypto';
import { cameraTopic, OFF, ON, SNAPSHOT_PRESS, topicLevel } from '../publish/camera-topics.js';

export { topicLevel };

export interface DiscoveryCamera {
  name: string;
  /** Labels that get a count sensor (events.labels and filters.labels). */
  labels: string[];
  /** events.enabled: occupancy, counts and the object event entity exist. */
  events: boolean;
  /** events.enabled and snapshots.enabled: the snapshot image and its "take snapshot" button exist. */
  snapshots: boolean;
  /** cameras.<name>.motion.enabled: the motion binary sensor exists. */
  motion?: boolean;
  /** events.enabled and a classifier runs on this camera: the "last sub-label" sensor exists. */
  subLabel?: boolean;
}

export interface DiscoveryOptions {
  discoveryPrefix: string;
  /** `mqtt.topicPrefix`: the daemon publishes under `<topicPrefix>/<deviceId>`. */
  topicPrefix: string;
  deviceId: string;
  /** The daemon's version (device sw_version, origin sw_version). */
  version: string;
  cameras: DiscoveryCamera[];
  /** Device name shown in HA; `mobilenet-edge <deviceId>` by default. */
  deviceName?: string;
  /** The live page, when the HTTP endpoint is on and reachable from other machines (device configuration_url). */
  configurationUrl?: string;
  /** Where users of this software get help (origin support_url); left out when the package names none. */
  supportUrl?: string;
}

export interface DiscoveryMessage {
  topic: string;
  /** JSON config, or '' to remove the entity. */
  payload: string;
  /** Discovery configs are always published retained, so HA finds them after its own restart. */
  retain: true;
}

export type Component = 'sensor' | 'binary_sensor' | 'image' | 'switch' | 'button' | 'event';

/** The topic prefix whose node ids and device identifiers stay as they were before the prefix became part of them. */
export const DEFAULT_TOPIC_PREFIX = 'mobilenet-edge';

/** The device `model`: fixed, so that changing the model file does not change the device (the model is a sensor). */
export const DEVICE_MODEL = 'MobileNet detector';

const shortHash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 8);

/**
 * Discovery topic ids may only hold `[a-zA-Z0-9_-]`. A name that needs replacing gets a short hash of itself
 * appended, so names that differ only in what is replaced stay apart: `κήπος` and `σπίτι` both became `_____`, and
 * two daemons named so shared every Home Assistant entity.
 */
export function discoveryId(s: string): string {
  const id = s.replace(/[^a-zA-Z0-9_-]/g, '_');
  if (id === s && id.length > 0) return id;
  return `${id}_${shortHash(s)}`;
}

/**
 * The discovery node id of one daemon. Two daemons with one device.id under different topic prefixes are two
 * daemons, so the prefix is part of it (as a hash: prefixes may hold `/`); the default prefix adds nothing, which
 * keeps the discovery topics of existing installations where they were.
 */
export function nodeId(topicPrefix: string, deviceId: string): string {
  const id = discoveryId(deviceId);
  return topicPrefix === DEFAULT_TOPIC_PREFIX ? id : `${id}_${shortHash(topicPrefix)}`;
}

/** The HA device identifier (unchanged for the default prefix; the prefix is kept whole otherwise, and has a `/`). */
export function deviceIdentifier(topicPrefix: string, deviceId: string): string {
  return topicPrefix === DEFAULT_TOPIC_PREFIX ? `mobilenet-edge-${deviceId}` : `mobilenet-edge-${topicPrefix}/${deviceId}`;
}

/**
 * An entity's unique_id: the device identifier (which holds the prefix and the device id unchanged), the component
 * and the entity key. The key and the component hold no `:`, so reading from the right takes it apart again: no two
 * daemons, and no two entities of one daemon, ever share one.
 */
export function uniqueId(topicPrefix: string, deviceId: string, component: Component, key: string): string {
  return `${deviceIdentifier(topicPrefix, deviceId)}:${component}:${key}`;
}

/** The state topics discovery points at; publishers use the same levels (camera-topics.ts) so both sides agree. */
export const haTopics = {
  base: (topicPrefix: string, deviceId: string): string => `${topicPrefix}/${deviceId}`,
  availability: (base: string): string => `${base}/availability`,
  stats: (base: string): string => `${base}/stats`,
  detector: (base: string): string => `${base}/detector`,
  camera: (base: string, levels: string[]): string => [base, ...levels].join('/'),
  labelCount: (base: string, camera: string, label: string): string => haTopics.camera(base, cameraTopic.count(camera, label)),
  occupancy: (base: string, camera: string): string => haTopics.camera(base, cameraTopic.occupancy(camera)),
  snapshot: (base: string, camera: string): string => haTopics.camera(base, cameraTopic.snapshot(camera)),
};

export const OCCUPANCY_ON = ON;
export const OCCUPANCY_OFF = OFF;

/** The kinds of object event (`event_type` in each event message). */
export const EVENT_TYPES = ['new', 'update', 'end'] as const;

/**
 * The camera's status is JSON; `online` only when its state is, `offline` for anything else (`offline`, `error`,
 * an empty payload): Home Assistant ignores an availability value that is neither, which would leave a camera in
 * `error` shown as available.
 */
export const CAMERA_AVAILABLE_TEMPLATE = "{{ 'online' if value_json is defined and value_json.state == 'online' else 'offline' }}";

/** A Jinja string literal, so camera names with dashes, dots or quotes still index the stats JSON. */
function jinjaString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

interface Entity {
  component: Component;
  /** Unique within the device and component; becomes object_id and part of unique_id. */
  key: string;
  config: Record<string, unknown>;
  /** The camera whose status the entity's availability also follows (besides the daemon's). */
  camera?: string;
}

function deviceEntities(base: string): Entity[] {
  const stats = haTopics.stats(base);
  return [
    {
      component: 'sensor',
      key: 'inference_ms',
      config: {
        name: 'Inference time',
        state_topic: stats,
        value_template: '{{ value_json.detector.inferenceMs.p50 }}',
        unit_of_measurement: 'ms',
        device_class: 'duration',
        state_class: 'measurement',
        entity_category: 'diagnostic',
        icon: 'mdi:timer-outline',
      },
    },
    {
      component: 'sensor',
      key: 'detector_backend',
      config: { name: 'Detector backend', state_topic: haTopics.detector(base), value_template: '{{ value_json.backend }}', entity_category: 'diagnostic', icon: 'mdi:chip' },
    },
    {
      // The model in use: a state, not the device's model, so a new model file changes a value, not the device.
      component: 'sensor',
      key: 'detection_model',
      config: { name: 'Detection model', state_topic: stats, value_template: '{{ value_json.model }}', entity_category: 'diagnostic', icon: 'mdi:file-cog-outline' },
    },
  ];
}

function cameraEntities(base: string, camera: DiscoveryCamera): Entity[] {
  const cam = discoveryId(camera.name);
  const topic = (levels: string[]): string => haTopics.camera(base, levels);
  const out: Entity[] = [
    {
      component: 'sensor',
      key: `${cam}_fps`,
      camera: camera.name,
      config: {
        name: `${camera.name} processed fps`,
        state_topic: haTopics.stats(base),
        value_template: `{{ value_json.cameras[${jinjaString(camera.name)}].fps.processed }}`,
        unit_of_measurement: 'fps',
        state_class: 'measurement',
        entity_category: 'diagnostic',
        icon: 'mdi:speedometer',
      },
    },
    {
      // Follows the daemon only, not the camera: detection can be switched off while the camera is down (so that
      // it does not start detecting the moment it comes back), which a greyed-out switch would not allow.
      component: 'switch',
      key: `${cam}_detect`,
      config: {
        name: `${camera.name} detection`,
        command_topic: topic(cameraTopic.detectSet(camera.name)),
        state_topic: topic(cameraTopic.detectState(camera.name)),
        payload_on: ON,
        payload_off: OFF,
        icon: 'mdi:cctv',
      },
    },
  ];
  if (camera.motion) {
    out.push({
      component: 'binary_sensor',
      key: `${cam}_motion`,
      camera: camera.name,
      config: { name: `${camera.name} motion`, state_topic: topic(cameraTopic.motion(camera.name)), payload_on: ON, payload_off: OFF, device_class: 'motion' },
    });
  }
  if (camera.events) {
    out.push(
      {
        component: 'binary_sensor',
        key: `${cam}_occupancy`,
        camera: camera.name,
        config: { name: `${camera.name} occupancy`, state_topic: topic(cameraTopic.occupancy(camera.name)), payload_on: ON, payload_off: OFF, device_class: 'occupancy' },
      },
      {
        // Automations trigger on it: each event message carries `event_type` (new, update, end); its other fields
        // (label, score, box, zones, id ...) become the event's attributes.
        component: 'event',
        key: `${cam}_object`,
        camera: camera.name,
        config: { name: `${camera.name} object`, state_topic: topic(cameraTopic.events(camera.name)), event_types: [...EVENT_TYPES], icon: 'mdi:eye' },
      },
    );
    if (camera.subLabel) {
      out.push({
        // The state is the sub-label itself; the attributes say which object it named, with what score, and when.
        component: 'sensor',
        key: `${cam}_sub_label`,
        camera: camera.name,
        config: {
          name: `${camera.name} sub-label`,
          state_topic: topic(cameraTopic.subLabel(camera.name)),
          value_template: '{{ value_json.subLabel }}',
          json_attributes_topic: topic(cameraTopic.subLabel(camera.name)),
          icon: 'mdi:tag-text-outline',
        },
      });
    }
    for (const label of [...new Set(camera.labels)]) {
      out.push({
        component: 'sensor',
        key: `${cam}_${discoveryId(label)}_count`,
        camera: camera.name,
        config: {
          name: `${camera.name} ${label} count`,
          state_topic: topic(cameraTopic.count(camera.name, label)),
          // A count has no unit: leaving unit_of_measurement out keeps HA from treating it as a physical quantity.
          state_class: 'measurement',
          icon: 'mdi:counter',
        },
      });
    }
  }
  if (camera.snapshots) {
    out.push(
      {
        component: 'image',
        key: `${cam}_snapshot`,
        camera: camera.name,
        config: { name: `${camera.name} snapshot`, image_topic: topic(cameraTopic.snapshot(camera.name)), content_type: 'image/jpeg' },
      },
      {
        component: 'button',
        key: `${cam}_take_snapshot`,
        camera: camera.name,
        config: { name: `${camera.name} take snapshot`, command_topic: topic(cameraTopic.snapshotSet(camera.name)), payload_press: SNAPSHOT_PRESS, icon: 'mdi:camera' },
      },
    );
  }
  return out;
}

function entities(opts: DiscoveryOptions): Entity[] {
  const base = haTopics.base(opts.topicPrefix, opts.deviceId);
  const out = [...deviceEntities(base), ...opts.cameras.flatMap((c) => cameraEntities(base, c))];
  // Sanitising can map two names to one key ("x" + "y_z" and "x_y" + "z"): suffix the later ones so keys stay unique.
  const seen = new Map<string, number>();
  for (const e of out) {
    const n = seen.get(`${e.component}/${e.key}`) ?? 0;
    seen.set(`${e.component}/${e.key}`, n + 1);
    if (n > 0) e.key = `${e.key}_${n + 1}`;
  }
  return out;
}

function topicFor(opts: DiscoveryOptions, e: Entity): string {
  return `${opts.discoveryPrefix}/${e.component}/${nodeId(opts.topicPrefix, opts.deviceId)}/${e.key}/config`;
}

/** Every discovery config, retained; publish on connect and again whenever HA sends `online` on `<discoveryPrefix>/status`. */
export function discoveryMessages(opts: DiscoveryOptions): DiscoveryMessage[] {
  const base = haTopics.base(opts.topicPrefix, opts.deviceId);
  const device = {
    identifiers: [deviceIdentifier(opts.topicPrefix, opts.deviceId)],
    name: opts.deviceName ?? `mobilenet-edge ${opts.deviceId}`,
    manufacturer: 'mobilenet-edge',
    model: DEVICE_MODEL,
    sw_version: opts.version,
    ...(opts.configurationUrl ? { configuration_url: opts.configurationUrl } : {}),
  };
  const origin = { name: 'mobilenet-edge', sw_version: opts.version, ...(opts.supportUrl ? { support_url: opts.supportUrl } : {}) };
  const daemon = { topic: haTopics.availability(base), payload_available: 'online', payload_not_available: 'offline' };
  return entities(opts).map((e) => {
    // A camera's entities are available while the daemon is online AND the camera is: `all`, not the default `latest`.
    const availability = e.camera
      ? {
          availability: [
            daemon,
            { topic: haTopics.camera(base, cameraTopic.status(e.camera)), value_template: CAMERA_AVAILABLE_TEMPLATE, payload_available: 'online', payload_not_available: 'offline' },
          ],
          availability_mode: 'all',
        }
      : { availability: [daemon] };
    return {
      topic: topicFor(opts, e),
      payload: JSON.stringify({ ...e.config, unique_id: uniqueId(opts.topicPrefix, opts.deviceId, e.component, e.key), ...availability, device, origin }),
      retain: true,
    };
  });
}

/** Empty retained payloads on the same topics: HA removes the entities (and the device once it has none left). */
export function removalMessages(opts: DiscoveryOptions): DiscoveryMessage[] {
  return entities(opts).map((e) => ({ topic: topicFor(opts, e), payload: '', retain: true }));
}

/** The subscription filter that matches every discovery config this daemon may have published under its node id. */
export function discoveryFilter(discoveryPrefix: string, node: string): string {
  return `${discoveryPrefix}/+/${node}/+/config`;
}
