/**
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery): one retained config
 * message per entity on `<discoveryPrefix>/<component>/<node_id>/<object_id>/config`, all tied to one device per
 * daemon. Keys are the long forms documented on the per-platform pages (sensor.mqtt, binary_sensor.mqtt, image.mqtt).
 */
import { createHash } from 'node:crypto';
import { cameraTopic, OFF, ON, topicLevel } from '../publish/camera-topics.js';

export interface DiscoveryOptions {
  discoveryPrefix: string;
  /** `mqtt.topicPrefix`: the daemon publishes under `<topicPrefix>/<deviceId>`. */
  topicPrefix: string;
  deviceId: string;
  /** The daemon's version (device sw_version). */
  version: string;
  cameras: { name: string; labels: string[] }[];
  /** Device name shown in HA; `mobilenet-edge <deviceId>` by default. */
  deviceName?: string;
  /** Device model; the detection model's name fits well. */
  model?: string;
}

export interface DiscoveryMessage {
  topic: string;
  /** JSON config, or '' to remove the entity. */
  payload: string;
  /** Discovery configs are always published retained, so HA finds them after its own restart. */
  retain: true;
}

export type Component = 'sensor' | 'binary_sensor' | 'image';

/**
 * Discovery topic ids may only hold `[a-zA-Z0-9_-]`. A name that needs replacing gets a short hash of itself
 * appended, so names that differ only in what is replaced stay apart: `κήπος` and `σπίτι` both became `_____`, and
 * two daemons named so shared every Home Assistant entity.
 */
export function discoveryId(s: string): string {
  const id = s.replace(/[^a-zA-Z0-9_-]/g, '_');
  if (id === s && id.length > 0) return id;
  return `${id}_${createHash('sha256').update(s).digest('hex').slice(0, 8)}`;
}

export { topicLevel };

/** The state topics discovery points at; publishers use these same functions so both sides agree. */
export const haTopics = {
  base: (topicPrefix: string, deviceId: string): string => `${topicPrefix}/${deviceId}`,
  availability: (base: string): string => `${base}/availability`,
  stats: (base: string): string => `${base}/stats`,
  detector: (base: string): string => `${base}/detector`,
  /** Count of objects with this label in view, a plain number, retained (under count/: see camera-topics.ts). */
  labelCount: (base: string, camera: string, label: string): string => `${base}/${cameraTopic.count(camera, label).join('/')}`,
  /** `ON` while anything tracked is in view, else `OFF`, retained. */
  occupancy: (base: string, camera: string): string => `${base}/${topicLevel(camera)}/occupancy`,
  /** The latest snapshot, raw JPEG bytes, retained. */
  snapshot: (base: string, camera: string): string => `${base}/${topicLevel(camera)}/snapshot`,
};

export const OCCUPANCY_ON = ON;
export const OCCUPANCY_OFF = OFF;

/** A Jinja string literal, so camera names with dashes, dots or quotes still index the stats JSON. */
function jinjaString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

interface Entity {
  component: Component;
  /** Unique within the device; becomes object_id and part of unique_id. */
  key: string;
  config: Record<string, unknown>;
}

function entities(opts: DiscoveryOptions): Entity[] {
  const base = haTopics.base(opts.topicPrefix, opts.deviceId);
  const stats = haTopics.stats(base);
  const out: Entity[] = [
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
      config: {
        name: 'Detector backend',
        state_topic: haTopics.detector(base),
        value_template: '{{ value_json.backend }}',
        entity_category: 'diagnostic',
        icon: 'mdi:chip',
      },
    },
  ];
  for (const camera of opts.cameras) {
    const cam = discoveryId(camera.name);
    out.push(
      {
        component: 'binary_sensor',
        key: `${cam}_occupancy`,
        config: {
          name: `${camera.name} occupancy`,
          state_topic: haTopics.occupancy(base, camera.name),
          payload_on: OCCUPANCY_ON,
          payload_off: OCCUPANCY_OFF,
          device_class: 'occupancy',
        },
      },
      {
        component: 'image',
        key: `${cam}_snapshot`,
        config: {
          name: `${camera.name} snapshot`,
          image_topic: haTopics.snapshot(base, camera.name),
          content_type: 'image/jpeg',
        },
      },
      {
        component: 'sensor',
        key: `${cam}_fps`,
        config: {
          name: `${camera.name} processed fps`,
          state_topic: stats,
          value_template: `{{ value_json.cameras[${jinjaString(camera.name)}].fps.processed }}`,
          unit_of_measurement: 'fps',
          state_class: 'measurement',
          entity_category: 'diagnostic',
          icon: 'mdi:speedometer',
        },
      },
    );
    for (const label of [...new Set(camera.labels)]) {
      out.push({
        component: 'sensor',
        key: `${cam}_${discoveryId(label)}_count`,
        config: {
          name: `${camera.name} ${label} count`,
          state_topic: haTopics.labelCount(base, camera.name, label),
          // A count has no unit: leaving unit_of_measurement out keeps HA from treating it as a physical quantity.
          state_class: 'measurement',
          icon: 'mdi:counter',
        },
      });
    }
  }
  // Sanitising can map two names to one id ("a b" and "a_b"): suffix the later ones so unique_ids stay unique.
  const seen = new Map<string, number>();
  for (const e of out) {
    const n = seen.get(`${e.component}/${e.key}`) ?? 0;
    seen.set(`${e.component}/${e.key}`, n + 1);
    if (n > 0) e.key = `${e.key}_${n + 1}`;
  }
  return out;
}

function topicFor(opts: DiscoveryOptions, e: Entity): string {
  return `${opts.discoveryPrefix}/${e.component}/${discoveryId(opts.deviceId)}/${e.key}/config`;
}

/** Every discovery config, retained; publish on connect and again whenever HA sends `online` on `<discoveryPrefix>/status`. */
export function discoveryMessages(opts: DiscoveryOptions): DiscoveryMessage[] {
  const base = haTopics.base(opts.topicPrefix, opts.deviceId);
  const node = discoveryId(opts.deviceId);
  const device = {
    identifiers: [`mobilenet-edge-${opts.deviceId}`],
    name: opts.deviceName ?? `mobilenet-edge ${opts.deviceId}`,
    manufacturer: 'mobilenet-edge',
    model: opts.model ?? 'MobileNet detector',
    sw_version: opts.version,
  };
  const availability = [{ topic: haTopics.availability(base), payload_available: 'online', payload_not_available: 'offline' }];
  return entities(opts).map((e) => ({
    topic: topicFor(opts, e),
    payload: JSON.stringify({ ...e.config, unique_id: `mobilenet-edge-${node}-${e.key}`, availability, device }),
    retain: true,
  }));
}

/** Empty retained payloads on the same topics: HA removes the entities (and the device once it has none left). */
export function removalMessages(opts: DiscoveryOptions): DiscoveryMessage[] {
  return entities(opts).map((e) => ({ topic: topicFor(opts, e), payload: '', retain: true }));
}

/** The kinds of object event (`event_type` in each event message). */
export const EVENT_TYPES = ['new', 'update', 'end'] as const;
