import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseConfigFile, loadConfig, redactConfig, SYSTEM_CONFIG, type AppConfig } from '../../src/config/index.js';
import { RPICAM_DEFAULTS } from '../helpers/rpicam-defaults.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'config-load-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeConfig(name: string, config: unknown): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

const minimal = {
  cameras: { front: { source: { type: 'files', path: 'images' } } },
  detector: { model: { cpu: 'model.tflite' } },
};

describe('shipped configs', () => {
  it('config/example.json validates: two cameras, Coral with a CPU twin, mqtt with TLS', () => {
    const { config, file } = loadConfig({ file: path.join(ROOT, 'config/example.json'), checkFiles: false, env: {} });
    expect(file).toBe(path.join(ROOT, 'config/example.json'));
    expect(Object.keys(config.cameras)).toEqual(['driveway', 'front-door']);
    expect(config.cameras.driveway?.source.type).toBe('rpicam');
    const door = config.cameras['front-door'];
    expect(door?.source).toMatchObject({ type: 'ffmpeg', inputOptions: ['-rtsp_transport', 'tcp'] });
    expect(door?.filters.minScore).toBe(0.6);
    expect(door?.filters.perLabel).toEqual({ person: 0.65, car: 0.55, bicycle: 0.45 });
    expect(config.detector.backend).toBe('auto');
    expect(config.detector.model.edgetpu).toMatch(/_edgetpu\.tflite$/);
    expect(config.detector.model.cpu).toBe('/var/lib/mobilenet-edge/models/ssd_mobilenet_v2_coco_quant_postprocess.tflite');
    expect(config.mqtt.password).toBe('change-me');
  });

  it('config/demo.json validates and points at the fetched sample photos and model', () => {
    const { config } = loadConfig({ file: path.join(ROOT, 'config/demo.json'), checkFiles: false, env: {} });
    const demo = config.cameras.demo;
    expect(demo?.source).toEqual({ type: 'files', path: path.join(ROOT, 'models/samples'), fps: 2, repeat: 6, loop: true, maxPixels: 50_000_000 });
    expect(config.detector.backend).toBe('cpu');
    expect(config.detector.model.cpu).toBe(path.join(ROOT, 'models/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite'));
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(config.stats.intervalSec).toBe(10);
    expect(config.log.level).toBe('debug') // the demo shows each frame's detections in the log;
  });
});

describe('defaults', () => {
  const { config } = loadConfig({ file: writeConfig('defaults', minimal), checkFiles: false, env: {} });

  it('fills every key the contract names', () => {
    const { cameras: _cameras, ...global } = config;
    expect(global).toEqual({
      device: { id: os.hostname() },
      log: { level: 'info', format: 'auto' },
      detector: {
        backend: 'auto',
        model: { cpu: path.join(tmp, 'defaults', 'model.tflite'), edgetpu: null },
        labels: null,
        kind: 'auto',
        threads: 1,
        resize: 'stretch',
        topK: 5,
        edgetpu: { device: '', library: 'libedgetpu.so.1', probeRoot: '/' },
        inferenceTimeoutMs: 2000,
        recoverIntervalSec: 30,
      },
      filters: { minScore: 0.5, labels: [], perLabel: {}, maxResults: 20 },
      mqtt: {
        url: 'mqtt://127.0.0.1:1883',
        topicPrefix: 'mobilenet-edge',
        clientId: '',
        username: null,
        password: null,
        qos: 1,
        retainDetections: false,
        outbox: { dir: null, maxMessages: 10000, maxBytes: 8 * 1024 * 1024, fsyncMs: 0, persistAfterMs: 1000 },
        persistentSession: false,
        detectionExpirySec: 0,
        keepaliveSec: 30,
        tls: { ca: null, cert: null, key: null, rejectUnauthorized: true },
      },
      classifiers: [],
      events: { enabled: true, iouThreshold: 0.3, minHits: 2, maxMissed: 5, labels: ['person'] },
      snapshots: { enabled: true, maxWidth: 640, quality: 80, dir: null, keep: 200 },
      homeassistant: { enabled: false, discoveryPrefix: 'homeassistant' },
      http: { enabled: false, host: '127.0.0.1', port: 9464, allowedHosts: [] },
      stats: { intervalSec: 60 },
    } satisfies Omit<AppConfig, 'cameras'>);
  });

  it('fills camera defaults per source type and carries the global filters', () => {
    expect(config.cameras.front).toEqual({
      name: 'front',
      enabled: true,
      source: { type: 'files', path: path.join(tmp, 'defaults', 'images'), fps: 1, loop: true, repeat: 1, maxPixels: 50_000_000 },
      detect: { fps: 5 },
      filters: { minScore: 0.5, labels: [], perLabel: {}, maxResults: 20 },
      classify: true,
      zones: {},
      masks: [],
      motion: { enabled: false, threshold: 25, minArea: 0.001, masks: [], idleDetectSec: 10, maxRegions: 4 },
    });
  });

  it('gives ffmpeg and rpicam cameras their own defaults', () => {
    const file = writeConfig('sources', {
      ...minimal,
      cameras: { usb: { source: { type: 'ffmpeg', input: '/dev/video0' } }, pi: { source: { type: 'rpicam' } } },
    });
    const { cameras } = loadConfig({ file, checkFiles: false, env: {} }).config;
    expect(cameras.usb?.source).toEqual({
      type: 'ffmpeg',
      input: '/dev/video0',
      inputOptions: [],
      width: 640,
      height: 480,
      fps: 10,
      ffmpegPath: 'ffmpeg',
    });
    expect(cameras.pi?.source).toEqual({ type: 'rpicam', ...RPICAM_DEFAULTS });
    // Motion gating pays off on live cameras; a files camera shows unrelated pictures.
    expect(cameras.usb?.motion.enabled).toBe(true);
    expect(cameras.pi?.motion.enabled).toBe(true);
  });

  it('motion: an explicit enabled wins over the source default, and bad values name the key', () => {
    const file = writeConfig('motion', {
      ...minimal,
      cameras: { usb: { source: { type: 'ffmpeg', input: '/dev/video0' }, motion: { enabled: false, maxRegions: 2, masks: [[[0, 0], [0.5, 0], [0.5, 0.5]]] } } },
    });
    const { cameras } = loadConfig({ file, checkFiles: false, env: {} }).config;
    expect(cameras.usb?.motion).toMatchObject({ enabled: false, maxRegions: 2, masks: [[[0, 0], [0.5, 0], [0.5, 0.5]]] });
    const bad = writeConfig('motion-bad', { ...minimal, cameras: { usb: { source: { type: 'ffmpeg', input: '/dev/video0' }, motion: { maxRegions: 0 } } } });
    expect(() => loadConfig({ file: bad, checkFiles: false, env: {} })).toThrow(/cameras\.usb\.motion\.maxRegions/);
  });
});

describe('layers and paths', () => {
  it('environment overrides the file for global keys', () => {
    const file = writeConfig('env', { ...minimal, mqtt: { url: 'mqtt://file-broker:1883', username: 'file-user' }, log: { level: 'warn' } });
    const env = {
      MOBILENET_EDGE_MQTT_URL: 'mqtts://env-broker:8883',
      MOBILENET_EDGE_MQTT_PASSWORD: 's3cret',
      MOBILENET_EDGE_LOG_LEVEL: 'debug',
      MOBILENET_EDGE_DEVICE_ID: 'pi-kitchen',
    };
    const { config } = loadConfig({ file, checkFiles: false, env });
    expect(config.mqtt.url).toBe('mqtts://env-broker:8883');
    expect(config.mqtt.username).toBe('file-user');
    expect(config.mqtt.password).toBe('s3cret');
    expect(config.log.level).toBe('debug');
    expect(config.device.id).toBe('pi-kitchen');
  });

  it('does not read process.env when an env is given', () => {
    process.env.MOBILENET_EDGE_MQTT_URL = 'mqtt://from-process-env:1883';
    try {
      const { config } = loadConfig({ file: writeConfig('noenv', minimal), checkFiles: false, env: {} });
      expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    } finally {
      delete process.env.MOBILENET_EDGE_MQTT_URL;
    }
  });

  it('resolves relative paths against the config file directory, leaves absolute ones alone', () => {
    const file = writeConfig('paths', {
      cameras: { a: { source: { type: 'files', path: '../imgs/*.jpg' } } },
      detector: { model: { cpu: 'models/m.tflite', edgetpu: '/opt/m_edgetpu.tflite' }, labels: './labels.txt' },
      mqtt: { url: 'mqtts://127.0.0.1:8883', tls: { ca: 'tls/ca.pem', key: 'tls/client.key' } },
    });
    const { config } = loadConfig({ file, checkFiles: false, env: {} });
    const dir = path.dirname(file);
    expect(config.detector.model.cpu).toBe(path.join(dir, 'models/m.tflite'));
    expect(config.detector.model.edgetpu).toBe('/opt/m_edgetpu.tflite');
    expect(config.detector.labels).toBe(path.join(dir, 'labels.txt'));
    expect(config.mqtt.tls.ca).toBe(path.join(dir, 'tls/ca.pem'));
    expect(config.mqtt.tls.key).toBe(path.join(dir, 'tls/client.key'));
    expect(config.cameras.a?.source).toMatchObject({ path: path.join(tmp, 'imgs/*.jpg') });
  });

  it('with checkFiles accepts existing model, labels, TLS files and a glob whose directory exists', () => {
    const file = writeConfig('files-ok', {
      cameras: { a: { source: { type: 'files', path: 'imgs/*.jpg' } }, b: { source: { type: 'files', path: 'one.jpg' } } },
      detector: { model: { cpu: 'm.tflite' }, labels: 'labels.txt' },
      mqtt: { url: 'mqtts://127.0.0.1:8883', tls: { ca: 'ca.pem' } },
    });
    const dir = path.dirname(file);
    fs.mkdirSync(path.join(dir, 'imgs'));
    for (const f of ['m.tflite', 'labels.txt', 'ca.pem', 'one.jpg']) fs.writeFileSync(path.join(dir, f), 'x');
    expect(() => loadConfig({ file, env: {} })).not.toThrow();
  });

  it('merges per-camera filter overrides with the global filters', () => {
    const file = writeConfig('filters', {
      ...minimal,
      filters: { minScore: 0.4, labels: ['person', 'car'], perLabel: { person: 0.7, car: 0.6 }, maxResults: 5 },
      cameras: {
        plain: { source: { type: 'files', path: 'x' } },
        tuned: { source: { type: 'files', path: 'x' }, filters: { minScore: 0.8, perLabel: { car: 0.3, dog: 0.5 } } },
      },
    });
    const { cameras } = loadConfig({ file, checkFiles: false, env: {} }).config;
    expect(cameras.plain?.filters).toEqual({ minScore: 0.4, labels: ['person', 'car'], perLabel: { person: 0.7, car: 0.6 }, maxResults: 5 });
    expect(cameras.tuned?.filters).toEqual({ minScore: 0.8, labels: ['person', 'car'], perLabel: { person: 0.7, car: 0.3, dog: 0.5 }, maxResults: 5 });
  });
});

describe('config file choice', () => {
  it('uses MOBILENET_EDGE_CONFIG when no file is given', () => {
    const file = writeConfig('by-env', minimal);
    expect(loadConfig({ env: { MOBILENET_EDGE_CONFIG: file }, checkFiles: false }).file).toBe(file);
  });

  it("uses the checkout's config/local.json, else the system path", () => {
    const root = path.join(tmp, 'checkout');
    const local = path.join(root, 'config', 'local.json');
    expect(chooseConfigFile({ env: {}, projectRoot: root })).toEqual({ file: SYSTEM_CONFIG, reason: expect.stringContaining('MOBILENET_EDGE_CONFIG') });
    fs.mkdirSync(path.dirname(local), { recursive: true });
    fs.writeFileSync(local, JSON.stringify(minimal));
    expect(loadConfig({ env: {}, projectRoot: root, checkFiles: false }).file).toBe(local);
  });
});

describe('redactConfig', () => {
  const file = writeConfig('redact', {
    ...minimal,
    cameras: { door: { source: { type: 'ffmpeg', input: 'rtsp://admin:hunter2@10.0.0.9/stream' } } },
    mqtt: { url: 'mqtts://bob:pw@broker:8883', username: 'bob', password: 'topsecret', tls: { key: '/etc/tls/client.key', cert: '/etc/tls/client.crt' } },
  });
  const { config } = loadConfig({ file, checkFiles: false, env: {} });
  const red = redactConfig(config) as unknown as AppConfig;

  it('hides the password, the TLS key and URL passwords', () => {
    expect(red.mqtt.password).toBe('[redacted]');
    expect(red.mqtt.tls.key).toBe('[redacted]');
    expect(red.mqtt.url).toBe('mqtts://bob:***@broker:8883');
    expect(red.cameras.door?.source).toMatchObject({ input: 'rtsp://admin:***@10.0.0.9/stream' });
    expect(JSON.stringify(red)).not.toMatch(/topsecret|hunter2|client\.key|:pw@/);
  });

  it('keeps everything else and leaves the loaded config untouched', () => {
    expect(red.mqtt.username).toBe('bob');
    expect(red.mqtt.tls.cert).toBe('/etc/tls/client.crt');
    expect(red.detector).toEqual(config.detector);
    expect(red.cameras.door?.filters).toEqual(config.cameras.door?.filters);
    expect(config.mqtt.password).toBe('topsecret');
    expect(config.mqtt.tls.key).toBe('/etc/tls/client.key');
  });

  it('leaves unset secrets null', () => {
    const plain = redactConfig(loadConfig({ file: writeConfig('redact-null', minimal), checkFiles: false, env: {} }).config) as unknown as AppConfig;
    expect(plain.mqtt.password).toBeNull();
    expect(plain.mqtt.tls.key).toBeNull();
  });
});
