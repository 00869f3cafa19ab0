import os from 'node:os';
import {
  bool,
  hostNames,
  check,
  edgetpuDevice,
  int,
  isPlainObject,
  mqttUrl,
  num,
  oneOf,
  orNull,
  scoreMap,
  stringArray,
  text,
  topicLevel,
  topicPrefix,
} from './formats.js';
import { setting, type ValueOf } from './setting.js';
import { classifiersSetting } from './classifiers.js';

/** One libedgetpu device string, or a non-empty list of distinct ones (several TPUs). */
const deviceProblem = (v: unknown): string | undefined => {
  try {
    (edgetpuDevice as (val: unknown) => void)(v);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};
const edgetpuDevices = check<string | string[]>(`${edgetpuDevice.describe}, or a list of them`, (v) => {
  if (!Array.isArray(v)) return deviceProblem(v);
  if (v.length === 0) return 'must list at least one device';
  for (const d of v) {
    const problem = deviceProblem(d);
    if (problem) return `${JSON.stringify(d)}: ${problem}`;
  }
  return new Set(v).size === v.length ? undefined : 'lists a device twice';
});

/** The global convict schema. Camera entries have their own per-source-type schemas (cameras.ts). */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

const path = orNull(text({ nonEmpty: true }));

export const filtersSchema = {
  minScore: setting({
    doc: 'Minimum score (0..1) for a detection to be published, unless perLabel sets another one for its label.',
    format: num({ min: 0, max: 1 }),
    default: 0.5,
  }),
  labels: setting({
    doc: 'Allow-list of label names to publish; empty publishes every label.',
    format: stringArray,
    default: [],
  }),
  perLabel: setting({
    doc: 'Per-label minimum score, e.g. {"person": 0.6, "cat": 0.4}; overrides minScore for that label.',
    format: scoreMap,
    default: {},
  }),
  maxResults: setting({
    doc: 'At most this many detections per frame, highest scores first.',
    format: int({ min: 1, max: 1000 }),
    default: 20,
  }),
};

export const appSchema = {
  device: {
    id: setting({
      doc: 'Name of this device: the MQTT topic level under mqtt.topicPrefix and the Home Assistant node id.',
      format: topicLevel,
      default: os.hostname(),
      defaultDoc: 'the host name',
      env: 'MOBILENET_EDGE_DEVICE_ID',
    }),
  },
  log: {
    level: setting({
      doc: 'Log level (pino JSON lines on stdout).',
      format: oneOf(LOG_LEVELS),
      default: 'info',
      env: 'MOBILENET_EDGE_LOG_LEVEL',
    }),
    format: setting({
      doc: 'Log line format: json (one object a line, for journald and jq), pretty (time, level, message and fields, in colour on a terminal unless NO_COLOR is set), or auto: pretty when stdout is a terminal and not the journal, else json. Under systemd each line starts with its syslog priority (`<4>` for a warning), which journald strips.',
      format: oneOf(LOG_FORMATS),
      default: 'auto',
      env: 'MOBILENET_EDGE_LOG_FORMAT',
    }),
  },
  cameras: setting({
    doc: 'Cameras by name (letters, digits, "_" and "-"); each entry is validated by the schema of its source.type, see below.',
    // Entries are checked one by one in cameras.ts; here only the map itself, so convict leaves its contents alone.
    format: check<Record<string, unknown>>('object: camera name -> camera', (v) => {
      if (!isPlainObject(v)) return 'must be an object mapping camera names to cameras';
      return Object.keys(v).length === 0 ? 'at least one camera is required' : undefined;
    }),
    default: {},
  }),
  detector: {
    backend: setting({
      doc: 'Where inference runs: cpu; edgetpu (a Coral must work at start, then falls back to the CPU twin at run time); or auto (the Edge TPU when it works, else the CPU twin, switching back when the TPU returns).',
      format: oneOf(['auto', 'edgetpu', 'cpu']),
      default: 'auto',
      env: 'MOBILENET_EDGE_DETECTOR_BACKEND',
    }),
    model: {
      cpu: setting({
        doc: 'CPU model (`.tflite`, the twin without the `_edgetpu` suffix); needed for backend cpu and for the auto fallback.',
        format: path,
        default: null,
        path: 'file',
      }),
      edgetpu: setting({
        doc: 'Edge TPU model (`*_edgetpu.tflite`, compiled for the Coral); needed for backend edgetpu, and preferred by auto.',
        format: path,
        default: null,
        path: 'file',
      }),
    },
    labels: setting({
      doc: 'Label file (one label per line, or "id label" lines); null uses labels embedded in the model metadata.',
      format: path,
      default: null,
      path: 'file',
    }),
    kind: setting({
      doc: 'Model kind: ssd (boxes) or classification (top-K labels); auto decides from the model outputs.',
      format: oneOf(['auto', 'ssd', 'classification']),
      default: 'auto',
    }),
    threads: setting({
      doc: 'CPU inference threads; 0: the fastest count is measured at the first start (about 10 s) and kept in the state directory for this model and machine. 1 is fastest on 2 cores; a Pi 4/5 gains from 2-4.',
      format: int({ min: 0, max: 16 }),
      default: 1,
    }),
    resize: setting({
      doc: 'How frames are fitted to the model input: stretch, letterbox (pad) or crop (centre).',
      format: oneOf(['stretch', 'letterbox', 'crop']),
      default: 'stretch',
    }),
    topK: setting({
      doc: 'Classification models: how many top labels to report per frame.',
      format: int({ min: 1, max: 100 }),
      default: 5,
    }),
    edgetpu: {
      device: setting({
        doc: 'Which Edge TPU to use: "" for the first available, usb, usb:N, pci, pci:N or :N; or a list of them to spread frames round-robin over several TPUs (a failing one is fenced while the others go on).',
        format: edgetpuDevices,
        default: '' as string | string[],
      }),
      library: setting({
        doc: 'The libedgetpu shared library to load (from Coral\'s libedgetpu1-std or -max package).',
        format: text({ nonEmpty: true }),
        default: 'libedgetpu.so.1',
      }),
      probeRoot: setting({
        doc: 'Directory under which sys/bus/usb/devices and dev/apex_N are looked for when probing for a TPU: "/" on a real system; another root for containers and tests.',
        format: text({ nonEmpty: true }),
        default: '/',
      }),
    },
    inferenceTimeoutMs: setting({
      doc: 'An Edge TPU inference running longer than this is a hung accelerator: its process is restarted and the frame runs on the CPU. CPU inferences get at least 30 s (a slow CPU is not a hang), Edge TPU model loads at least 10 s (5 times this otherwise).',
      format: int({ min: 1, max: 600_000 }),
      default: 2000,
    }),
    recoverIntervalSec: setting({
      doc: 'While an Edge TPU is down, how often to re-probe it (cheap checks first); repeated failures back off up to 16 times this.',
      format: num({ min: 0.01, max: 3600 }),
      default: 30,
    }),
  },
  classifiers: classifiersSetting,
  filters: filtersSchema,
  mqtt: {
    url: setting({
      doc: 'Broker URL: mqtt://, mqtts://, ws://, wss://, tcp:// or ssl://.',
      format: mqttUrl,
      default: 'mqtt://127.0.0.1:1883',
      env: 'MOBILENET_EDGE_MQTT_URL',
    }),
    topicPrefix: setting({
      doc: 'First level(s) of every topic: `<topicPrefix>/<device.id>/...`; no wildcards.',
      format: topicPrefix,
      default: 'mobilenet-edge',
    }),
    clientId: setting({
      doc: 'MQTT client id; empty derives one from topicPrefix and device.id.',
      format: text(),
      default: '',
    }),
    username: setting({
      doc: 'Broker user name; null for none.',
      format: orNull(text()),
      default: null,
      env: 'MOBILENET_EDGE_MQTT_USERNAME',
    }),
    password: setting({
      doc: 'Broker password; null for none. Prefer the environment variable to keeping it in the file.',
      format: orNull(text()),
      default: null,
      env: 'MOBILENET_EDGE_MQTT_PASSWORD',
      sensitive: true,
    }),
    qos: setting({
      doc: 'QoS of detection and state publishes.',
      format: oneOf([0, 1, 2]),
      default: 1,
    }),
    retainDetections: setting({
      doc: 'Publish detection messages retained (availability is always retained).',
      format: bool,
      default: false,
    }),
    outbox: {
      dir: setting({
        doc: 'Directory of the durable outbox that keeps detections until the broker has them (across outages and restarts, SIGKILL included). null: $MOBILENET_EDGE_STATE_DIR/outbox, else $STATE_DIRECTORY/outbox (set by systemd), else memory only. A full disk holds new detections in memory and goes back to the disk when space returns; an unwritable directory keeps them in memory for the run (both with a warning, and a count of what a stop then loses).',
        format: orNull(text({ nonEmpty: true })),
        default: null,
        env: 'MOBILENET_EDGE_OUTBOX_DIR',
      }),
      maxMessages: setting({
        doc: 'Detections kept at most while the broker has not acknowledged them; past it the oldest are dropped and counted (stats mqtt.droppedOffline).',
        format: int({ min: 1, max: 1_000_000 }),
        default: 10000,
      }),
      maxBytes: setting({
        doc: 'Bytes (topics + payloads) kept at most in the outbox; past it the oldest are dropped and counted. Held in memory too. At least 64 KiB: one detection message takes up to a few KiB.',
        // A bound below a few detections would drop nearly all of them while the broker is away.
        format: check<number>('integer 65536..1073741824 (64 KiB to 1 GiB)', (v) =>
          Number.isInteger(v) && (v as number) >= 64 * 1024 && (v as number) <= 1024 ** 3
            ? undefined
            : 'must be an integer of at least 65536 (64 KiB) and at most 1073741824 (1 GiB): one detection message takes up to a few KiB, and a smaller outbox would drop nearly every detection while the broker is away',
        ),
        default: 8 * 1024 * 1024,
      }),
      fsyncMs: setting({
        doc: 'Flush the outbox to the storage device at most this often (ms); 0: leave it to the kernel (survives a daemon crash or SIGKILL, not a power cut of the last ~30 s), fewer SD card writes.',
        format: int({ min: 0, max: 60_000 }),
        default: 0,
      }),
      persistAfterMs: setting({
        doc: 'A detection sent to a connected broker is written to the outbox on disk only if the broker has not acknowledged it within this many ms; 0: every detection is written at once. A healthy broker acknowledges in milliseconds, so the disk (an SD card) sees almost nothing and the daemon saves a write a frame; detections made while the broker is away, and all unacknowledged ones when the connection drops or the daemon stops, are written at once. What a SIGKILL can then lose: the detections of its last second, and only if the connection had died without the daemon noticing.',
        format: int({ min: 0, max: 60_000 }),
        default: 1000,
      }),
    },
    persistentSession: setting({
      doc: 'Ask the broker to keep this client\'s session (clean: false; with MQTT 5 a one-day session expiry) so QoS 1 messages in flight survive a reconnect on the broker side too.',
      format: bool,
      default: false,
    }),
    detectionExpirySec: setting({
      doc: 'MQTT 5 message expiry of detections, in seconds: a broker drops a detection nobody received in time (0: never). Non-zero switches the connection to MQTT 5.',
      format: int({ min: 0, max: 7 * 86_400 }),
      default: 0,
    }),
    keepaliveSec: setting({
      doc: 'MQTT keepalive interval in seconds; 0 turns keepalive off.',
      format: int({ min: 0, max: 65535 }),
      default: 30,
    }),
    tls: {
      ca: setting({ doc: 'CA certificate (PEM) to trust; null uses the system CAs.', format: path, default: null, path: 'file' }),
      cert: setting({ doc: 'Client certificate (PEM) for mutual TLS; null for none.', format: path, default: null, path: 'file' }),
      key: setting({
        doc: 'Client private key (PEM) for mutual TLS; null for none.',
        format: path,
        default: null,
        path: 'file',
        sensitive: true,
      }),
      rejectUnauthorized: setting({
        doc: 'Refuse brokers whose certificate does not verify; false only for testing.',
        format: bool,
        default: true,
      }),
    },
  },
  events: {
    enabled: setting({ doc: 'Track objects across frames and publish events (new / update / end), per-label counts and occupancy.', format: bool, default: true }),
    iouThreshold: setting({ doc: 'Box overlap (intersection over union) for a detection to continue an existing object of the same label.', format: num({ min: 0, max: 1, exclusiveMin: true }), default: 0.3 }),
    minHits: setting({ doc: 'Frames an object must be seen before its event starts (debounces one-frame false positives).', format: int({ min: 1, max: 1000 }), default: 2 }),
    maxMissed: setting({ doc: 'Frames an object may be missing before its event ends (debounces flicker).', format: int({ min: 1, max: 1000 }), default: 5 }),
    labels: setting({ doc: 'Labels whose count topics exist from the start (zeroed at start-up, so no stale "on" after a restart) and which get Home Assistant count sensors; other labels get a count topic when first seen, but no sensor.', format: stringArray, default: ['person'] as string[] }),
  },
  snapshots: {
    enabled: setting({ doc: 'Publish a JPEG with boxes drawn (retained, binary) on <camera>/snapshot when an event starts and when its best score improves.', format: bool, default: true }),
    maxWidth: setting({ doc: 'Snapshot width in pixels at most (the frame is scaled down, keeping its aspect).', format: int({ min: 64, max: 4096 }), default: 640 }),
    quality: setting({ doc: 'JPEG quality of snapshots (1-100).', format: int({ min: 1, max: 100 }), default: 80 }),
    dir: setting({ doc: 'Also write snapshots to this directory (null: do not).', format: orNull(text({ nonEmpty: true })), default: null }),
    keep: setting({ doc: 'Snapshots kept in snapshots.dir; the oldest are deleted beyond this.', format: int({ min: 1, max: 100_000 }), default: 200 }),
  },
  homeassistant: {
    enabled: setting({ doc: 'Publish Home Assistant MQTT discovery (retained), and again when HA announces itself on <discoveryPrefix>/status.', format: bool, default: false }),
    discoveryPrefix: setting({ doc: 'Home Assistant discovery prefix.', format: topicPrefix, default: 'homeassistant' }),
  },
  http: {
    enabled: setting({ doc: 'Serve /healthz, /metrics (Prometheus) and a live page.', format: bool, default: false, env: 'MOBILENET_EDGE_HTTP_ENABLED' }),
    host: setting({ doc: 'Address to listen on: 127.0.0.1 keeps it on this machine; 0.0.0.0 exposes it to the network (no authentication).', format: text({ nonEmpty: true }), default: '127.0.0.1' }),
    port: setting({ doc: 'TCP port of the HTTP endpoint.', format: int({ min: 0, max: 65535 }), default: 9464, env: 'MOBILENET_EDGE_HTTP_PORT' }),
    allowedHosts: setting({
      doc: 'Host names the endpoint answers to besides localhost, IP addresses, this machine\'s host name (and its .local name) and http.host, e.g. ["pi.example.lan"]; any other Host header gets 403 (a guard against DNS rebinding).',
      format: hostNames,
      default: [] as string[],
    }),
  },
  stats: {
    intervalSec: setting({
      doc: 'How often statistics are logged and published, in seconds.',
      format: num({ min: 1, max: 86_400 }),
      default: 60,
    }),
  },
};

export type FiltersConfig = ValueOf<typeof filtersSchema>;
export type DetectorConfig = ValueOf<typeof appSchema.detector>;
export type MqttConfig = ValueOf<typeof appSchema.mqtt>;
/** The global part of the config; cameras are typed in cameras.ts. */
export type GlobalConfig = ValueOf<typeof appSchema>;
