import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, formatConfigError, loadConfig, type ConfigProblem } from '../../src/config/index.js';
import { cameraSchemas } from '../../src/config/cameras.js';
import { MAX_TIMER_MS } from '../../src/config/formats.js';
import { appSchema } from '../../src/config/schema.js';
import { leaves, type SchemaTree } from '../../src/config/setting.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'config-errors-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Json = Record<string, unknown>;
const camera = (source: Json, extra: Json = {}): Json => ({ cameras: { front: { source, ...extra } } });
/** A valid config (with checkFiles false) that each case breaks in one place. */
const valid = (): Json => ({
  cameras: { front: { source: { type: 'files', path: 'images' } } },
  detector: { model: { cpu: 'model.tflite' } },
});
const withValid = (patch: Json): Json => ({ ...valid(), ...patch });

interface Case {
  name: string;
  /** Written to config.json; a string is written as is. Undefined: no file at all. */
  config: Json | string | undefined;
  checkFiles?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Exactly these problems, in this order: key and a pattern for the message. */
  expected: [string, RegExp][];
}

const cases: Case[] = [
  { name: 'a zone with two points', config: withValid(camera({ type: 'files', path: 'p' }, { zones: { door: [[0, 0], [1, 1]] } })), expected: [['cameras.front.zones', /zone "door" must be a list of at least 3/]] },
  { name: 'a mask point outside the frame', config: withValid(camera({ type: 'files', path: 'p' }, { masks: [[[0, 0], [1.5, 0], [0, 1]]] })), expected: [['cameras.front.masks', /mask 0 has a point \[1\.5,0\]/]] },
  { name: 'classifiers not a list', config: withValid({ classifiers: { objects: ['bird'] } }), expected: [['classifiers', /must be an array of classifier entries/]] },
  { name: 'a classifier entry that is not an object', config: withValid({ classifiers: ['birds.tflite'] }), expected: [['classifiers[0]', /must be an object with "objects" and "model" \(got "birds\.tflite"\)/]] },
  { name: 'a classifier without objects', config: withValid({ classifiers: [{ model: { cpu: 'm.tflite' } }] }), expected: [['classifiers[0].objects', /must be an array of detector labels/]] },
  { name: 'a classifier with an empty objects list', config: withValid({ classifiers: [{ objects: [], model: { cpu: 'm.tflite' } }] }), expected: [['classifiers[0].objects', /at least one detector label/]] },
  { name: 'a classifier without a model', config: withValid({ classifiers: [{ objects: ['bird'] }] }), expected: [['classifiers[0].model', /set model\.cpu and\/or model\.edgetpu/]] },
  { name: 'a classifier minScore above 1', config: withValid({ classifiers: [{ objects: ['bird'], model: { cpu: 'm.tflite' }, minScore: 3 }] }), expected: [['classifiers[0].minScore', /0\.\.1|at most 1/]] },
  { name: 'a classifier with an unknown key', config: withValid({ classifiers: [{ objects: ['bird'], model: { cpu: 'm.tflite' }, maxCrop: 2 }] }), expected: [['classifiers[0].maxCrop', /did you mean "maxCrops"/]] },
  { name: 'a classifier CPU model that is an Edge TPU build', config: withValid({ classifiers: [{ objects: ['bird'], model: { cpu: 'm_edgetpu.tflite' } }] }), expected: [['classifiers[0].model.cpu', /is an Edge TPU model/]] },
  { name: 'a classifier Edge TPU device that libedgetpu does not know', config: withValid({ classifiers: [{ objects: ['bird'], model: { cpu: 'm.tflite' }, edgetpuDevice: 'usb1' }] }), expected: [['classifiers[0].edgetpuDevice', /"usb:N"/]] },
  { name: 'a camera classify that is not a boolean', config: withValid(camera({ type: 'files', path: 'p' }, { classify: 'no' })), expected: [['cameras.front.classify', /true or false/]] },
  { name: 'one label classified twice', config: withValid({ classifiers: [{ objects: ['bird'], model: { cpu: 'a.tflite' } }, { objects: ['cat', 'bird'], model: { cpu: 'b.tflite' } }] }), expected: [['classifiers[1].objects', /"bird" is already classified by classifiers\[0\]/]] },
  { name: 'outbox.maxMessages zero', config: withValid({ mqtt: { outbox: { maxMessages: 0 } } }), expected: [['mqtt.outbox.maxMessages', /1/]] },
  { name: 'outbox.maxBytes too small', config: withValid({ mqtt: { outbox: { maxBytes: 10 } } }), expected: [['mqtt.outbox.maxBytes', /^must be an integer of at least 65536 \(64 KiB\) and at most 1073741824 \(1 GiB\): .*detection.* \(got 10\)$/]] },
  { name: 'outbox.maxBytes smaller than a few detections', config: withValid({ mqtt: { outbox: { maxBytes: 2048 } } }), expected: [['mqtt.outbox.maxBytes', /at least 65536 \(64 KiB\)/]] },
  { name: 'outbox with an unknown key', config: withValid({ mqtt: { outbox: { path: '/var/lib/x' } } }), expected: [['mqtt.outbox.path', /^unknown key/]] },
  { name: 'negative detection expiry', config: withValid({ mqtt: { detectionExpirySec: -1 } }), expected: [['mqtt.detectionExpirySec', /-1/]] },
  { name: 'persistentSession not a boolean', config: withValid({ mqtt: { persistentSession: 'yes' } }), expected: [['mqtt.persistentSession', /true or false/]] },
  { name: 'empty list of Edge TPUs', config: withValid({ detector: { model: { cpu: 'model.tflite' }, edgetpu: { device: [] } } }), expected: [['detector.edgetpu.device', /at least one device/]] },
  { name: 'a bad device in the list of Edge TPUs', config: withValid({ detector: { model: { cpu: 'model.tflite' }, edgetpu: { device: ['usb:0', 'usb:x'] } } }), expected: [['detector.edgetpu.device', /"usb:x"/]] },
  { name: 'the same Edge TPU listed twice', config: withValid({ detector: { model: { cpu: 'model.tflite' }, edgetpu: { device: ['usb:0', 'usb:0'] } } }), expected: [['detector.edgetpu.device', /twice/]] },
  { name: 'empty probeRoot', config: withValid({ detector: { model: { cpu: 'model.tflite' }, edgetpu: { probeRoot: '' } } }), expected: [['detector.edgetpu.probeRoot', /./]] },
  { name: 'rpicam stride unknown', config: withValid(camera({ type: 'rpicam', stride: 'pi3' })), expected: [['cameras.front.source.stride', /pi4/]] },
  { name: 'unknown top-level key', config: withValid({ mqqt: { url: 'mqtt://x' } }), expected: [['mqqt', /^unknown key \(did you mean "mqtt"\?\); allowed here: device, log, cameras, detector, classifiers, filters, mqtt, events, snapshots, homeassistant, http, stats$/]] },
  { name: 'unknown key inside a camera', config: withValid(camera({ type: 'files', path: 'p', fsp: 2 })), expected: [['cameras.front.source.fsp', /^unknown key \(did you mean "fps"\?\); allowed here: type, path, fps, loop, repeat, maxPixels$/]] },
  { name: 'unknown key of another source type', config: withValid(camera({ type: 'files', path: 'p', input: 'rtsp://x' })), expected: [['cameras.front.source.input', /^unknown key; allowed here: type, path, fps, loop, repeat, maxPixels$/]] },
  { name: 'unknown nested section reported once', config: withValid({ mqtt: { extra: { a: 1, b: { c: 2 } } } }), expected: [['mqtt.extra', /^unknown key; allowed here: url, topicPrefix/]] },
  { name: 'wrong type: string for a number', config: withValid({ mqtt: { qos: '1' } }), expected: [['mqtt.qos', /^must be one of 0, 1, 2 \(got "1"\)$/]] },
  { name: 'wrong type: string for a boolean in a camera', config: withValid(camera({ type: 'files', path: 'p' }, { enabled: 'yes' })), expected: [['cameras.front.enabled', /^must be true or false \(got "yes"\)$/]] },
  { name: 'wrong type: object where a value belongs', config: withValid({ log: { level: { name: 'info' } } }), expected: [['log.level', /^must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" \(got \{"name":"info"\}\)$/]] },
  { name: 'wrong type: value where a section belongs', config: withValid({ mqtt: 'mqtt://x' }), expected: [['mqtt', /^must be an object with keys url, topicPrefix, .* \(got "mqtt:\/\/x"\)$/]] },
  { name: 'missing model file', config: valid(), checkFiles: true, expected: [['detector.model.cpu', /^file not found: .*\/model\.tflite: fetch it with `mobilenet-edge fetch-models .*without network add --from FOLDER/], ['cameras.front.source.path', /^file not found: .*\/images$/]] },
  { name: 'glob whose directory is missing', config: withValid({ detector: { model: { cpu: '/dev/null' } }, ...camera({ type: 'files', path: 'nope/*.jpg' }) }), checkFiles: true, expected: [['detector.model.cpu', /^is not a regular file: \/dev\/null$/], ['cameras.front.source.path', /^directory of the glob not found: .*\/nope$/]] },
  { name: 'both models null', config: withValid({ detector: { model: { cpu: null, edgetpu: null } } }), expected: [['detector.model', /^set detector\.model\.cpu and\/or detector\.model\.edgetpu \(both are null\)$/]] },
  { name: 'backend cpu without a CPU model', config: withValid({ detector: { backend: 'cpu', model: { edgetpu: 'm_edgetpu.tflite' } } }), expected: [['detector.model.cpu', /^is required with detector\.backend "cpu"$/]] },
  { name: 'Edge TPU model given as the CPU model', config: withValid({ detector: { model: { cpu: 'm_edgetpu.tflite' } } }), expected: [['detector.model.cpu', /^is an Edge TPU model .* plain twin/]] },
  { name: 'malformed URL', config: withValid({ mqtt: { url: 'broker 1883' } }), expected: [['mqtt.url', /^must be a URL such as mqtt:\/\/host:1883 \(got "broker 1883"\)$/]] },
  { name: 'URL without a host', config: withValid({ mqtt: { url: 'mqtt://' } }), expected: [['mqtt.url', /^must name a host, e\.g\. mqtt:\/\/127\.0\.0\.1:1883 \(got "mqtt:\/\/"\)$/]] },
  { name: 'unsupported URL protocol', config: withValid({ mqtt: { url: 'http://broker:1883' } }), expected: [['mqtt.url', /^protocol must be one of mqtt: mqtts: ws: wss: tcp: ssl: \(got "http:\/\/broker:1883"\)$/]] },
  { name: 'malformed URL from the environment', config: valid(), env: { MOBILENET_EDGE_MQTT_URL: 'nonsense' }, expected: [['mqtt.url', /^must be a URL .*\(got "nonsense"\) \(from environment variable MOBILENET_EDGE_MQTT_URL\)$/]] },
  // Node turns a timer over 2^31 - 1 ms into 1 ms: each of these made a storm of stats or no inference at all.
  { name: 'stats every 1e7 s (a timer past 2^31 ms)', config: withValid({ stats: { intervalSec: 1e7 } }), expected: [['stats.intervalSec', /1\.\.86400 \(got 10000000\)/]] },
  { name: 'stats every nanosecond', config: withValid({ stats: { intervalSec: 1e-9 } }), expected: [['stats.intervalSec', /1\.\.86400/]] },
  { name: 'inference timeout 3e9 ms', config: withValid({ detector: { model: { cpu: 'model.tflite' }, inferenceTimeoutMs: 3e9 } }), expected: [['detector.inferenceTimeoutMs', /1\.\.600000 \(got 3000000000\)/]] },
  { name: 'a files camera at 1e-7 fps', config: withValid(camera({ type: 'files', path: 'p', fps: 1e-7 })), expected: [['cameras.front.source.fps', /at least 1\/86400 \(one frame a day\)/]] },
  { name: 'detect.fps 1e-7', config: withValid(camera({ type: 'files', path: 'p' }, { detect: { fps: 1e-7 } })), expected: [['cameras.front.detect.fps', /at least 1\/86400/]] },
  { name: 'an ffmpeg camera at 1e-7 fps', config: withValid(camera({ type: 'ffmpeg', input: 'x', fps: 1e-7 })), expected: [['cameras.front.source.fps', /at least 1\/86400/]] },
  { name: 'rpicam framerate 0', config: withValid(camera({ type: 'rpicam', framerate: 0 })), expected: [['cameras.front.source.framerate', /at least 1\/86400/]] },
  { name: 'rpicam stall after 1e9 s', config: withValid(camera({ type: 'rpicam', stallSeconds: 1e9 })), expected: [['cameras.front.source.stallSeconds', /0\.1\.\.3600/]] },
  { name: 'recoverIntervalSec 1e6', config: withValid({ detector: { model: { cpu: 'model.tflite' }, recoverIntervalSec: 1e6 } }), expected: [['detector.recoverIntervalSec', /0\.01\.\.3600/]] },
  { name: 'outbox fsync every 1e10 ms', config: withValid({ mqtt: { outbox: { fsyncMs: 1e10 } } }), expected: [['mqtt.outbox.fsyncMs', /0\.\.60000/]] },
  { name: 'outbox.maxMessages 1e300', config: withValid({ mqtt: { outbox: { maxMessages: 1e300 } } }), expected: [['mqtt.outbox.maxMessages', /1\.\.1000000/]] },
  { name: 'negative fps', config: withValid(camera({ type: 'files', path: 'p', fps: -1 })), expected: [['cameras.front.source.fps', /^must be 0 \(on demand\) or a positive number \(got -1\)$/]] },
  { name: 'negative detect fps', config: withValid(camera({ type: 'files', path: 'p' }, { detect: { fps: -2 } })), expected: [['cameras.front.detect.fps', /^must be 0 \(as fast as the detector goes\) or a positive number \(got -2\)$/]] },
  { name: 'no cameras', config: { detector: { model: { cpu: 'm.tflite' } } }, expected: [['cameras', /^at least one camera is required \(got \{\}\)$/]] },
  { name: 'empty cameras object', config: withValid({ cameras: {} }), expected: [['cameras', /^at least one camera is required \(got \{\}\)$/]] },
  { name: 'cameras as an array', config: withValid({ cameras: [{ source: { type: 'files' } }] }), expected: [['cameras', /^must be an object mapping camera names to cameras \(got \[/]] },
  { name: 'bad camera name', config: withValid({ cameras: { 'front door': { source: { type: 'files', path: 'p' } } } }), expected: [['cameras.front door', /letters, digits, "_" and "-"/]] },
  { name: 'camera without a source object', config: withValid({ cameras: { front: { enabled: true } } }), expected: [['cameras.front.source', /^must be an object with a "type": one of files, ffmpeg, rpicam$/]] },
  { name: 'unknown source type', config: withValid(camera({ type: 'webcam', device: '/dev/video0' })), expected: [['cameras.front.source.type', /^must be one of "files", "ffmpeg", "rpicam" \(got "webcam"\)$/]] },
  { name: 'files source without path', config: withValid(camera({ type: 'files' })), expected: [['cameras.front.source.path', /^is required \(a file, directory or glob\) \(got null\)$/]] },
  { name: 'ffmpeg source without input', config: withValid(camera({ type: 'ffmpeg', inputOptions: ['-rtsp_transport', 'tcp'] })), expected: [['cameras.front.source.input', /^is required \(a device, URL, file or lavfi spec\)/]] },
  { name: 'ffmpeg inputOptions as one string', config: withValid(camera({ type: 'ffmpeg', input: 'rtsp://x', inputOptions: '-rtsp_transport tcp' })), expected: [['cameras.front.source.inputOptions', /^must be an array of strings \(got "-rtsp_transport tcp"\)$/]] },
  { name: 'invalid JSON', config: '{\n  "cameras": {\n    "front": }\n}\n', expected: [['', /^invalid JSON at line 3, column 14: unexpected character "}"$/]] },
  { name: 'JSON with a trailing comma', config: '{\n  "log": { "level": "info", }\n}', expected: [['', /^invalid JSON at line 2, column 29: trailing comma before '}'$/]] },
  { name: 'JSON with a comment', config: '{\n  // my camera\n}', expected: [['', /^invalid JSON at line 2, column 3: unexpected character "\/" \(JSON has no comments\)$/]] },
  { name: 'truncated JSON', config: '{"cameras": {', expected: [['', /^invalid JSON at line 1, column 14: unexpected end of file$/]] },
  { name: 'JSON that is not an object', config: '[1, 2]', expected: [['', /^must contain a JSON object/]] },
  { name: 'config file missing', config: undefined, expected: [['', /^config file not found \(given on the command line\)$/]] },
  { name: 'minScore 1.5', config: withValid({ filters: { minScore: 1.5 } }), expected: [['filters.minScore', /^must be a number 0\.\.1 \(got 1\.5\)$/]] },
  { name: 'perLabel value out of range', config: withValid({ filters: { perLabel: { person: 0.6, car: 2 } } }), expected: [['filters.perLabel', /^score for label "car" must be a number 0\.\.1 \(got \{"person":0\.6,"car":2\}\)$/]] },
  { name: 'camera filter override out of range', config: withValid(camera({ type: 'files', path: 'p' }, { filters: { minScore: 3 } })), expected: [['cameras.front.filters.minScore', /^must be a number 0\.\.1, or null \(got 3\)$/]] },
  { name: "topicPrefix with '#'", config: withValid({ mqtt: { topicPrefix: 'home/#' } }), expected: [['mqtt.topicPrefix', /^must not contain MQTT wildcards "#" or "\+" \(got "home\/#"\)$/]] },
  { name: 'bad device.id', config: withValid({ device: { id: 'pi/one' } }), expected: [['device.id', /^must be a single MQTT topic level: no "\/", "#" or "\+" \(got "pi\/one"\)$/]] },
  { name: 'empty device.id', config: withValid({ device: { id: '' } }), expected: [['device.id', /^must be a non-empty string \(got ""\)$/]] },
  { name: 'threads -1', config: withValid({ detector: { model: { cpu: 'm.tflite' }, threads: -1 } }), expected: [['detector.threads', /^must be an integer 0\.\.16 \(got -1\)$/]] },
  { name: 'threads a word', config: withValid({ detector: { model: { cpu: 'm.tflite' }, threads: 'auto' } }), expected: [['detector.threads', /^must be an integer 0\.\.16 \(got "auto"\)$/]] },
  { name: 'bad Edge TPU device', config: withValid({ detector: { model: { cpu: 'm.tflite' }, edgetpu: { device: 'usb1' } } }), expected: [['detector.edgetpu.device', /^must be "" \(first available\), "usb", "usb:N"/]] },
  { name: 'log level from the environment', config: valid(), env: { MOBILENET_EDGE_LOG_LEVEL: 'loud' }, expected: [['log.level', /\(got "loud"\) \(from environment variable MOBILENET_EDGE_LOG_LEVEL\)$/]] },
  {
    name: 'several problems at once',
    config: {
      bogus: true,
      cameras: {
        front: { source: { type: 'files', fps: -1 } },
        back: { source: { type: 'ffmpeg', input: 'rtsp://x', width: 10.5 } },
        side: { source: { type: 'usb' } },
      },
      detector: { model: { cpu: null }, threads: -1 },
      filters: { minScore: 1.5 },
      mqtt: { url: 'http://x', qos: 3 },
    },
    expected: [
      ['detector.threads', /integer 0\.\.16/],
      ['filters.minScore', /0\.\.1/],
      ['mqtt.url', /protocol/],
      ['mqtt.qos', /one of 0, 1, 2 \(got 3\)/],
      ['bogus', /^unknown key/],
      ['cameras.front.source.path', /is required/],
      ['cameras.front.source.fps', /must be 0 \(on demand\) or a positive number \(got -1\)/],
      ['cameras.back.source.width', /integer 16\.\.8192 \(got 10\.5\)/],
      ['cameras.side.source.type', /got "usb"/],
      ['detector.model', /both are null/],
    ],
  },
];

function run(c: Case, i: number): { file: string; err: unknown } {
  const file = path.join(tmp, `case-${i}`, 'config.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (c.config !== undefined) fs.writeFileSync(file, typeof c.config === 'string' ? c.config : JSON.stringify(c.config, null, 2));
  try {
    loadConfig({ file, checkFiles: c.checkFiles ?? false, env: c.env ?? {} });
    return { file, err: undefined };
  } catch (err) {
    return { file, err };
  }
}

describe('broken configs', () => {
  it('has a broad table', () => expect(cases.length).toBeGreaterThanOrEqual(50));

  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const { file, err } = run(c, i);
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.file).toBe(file);
    const keys = e.problems.map((p: ConfigProblem) => p.key);
    expect(keys).toEqual(c.expected.map(([key]) => key));
    e.problems.forEach((p, j) => expect(p.message).toMatch((c.expected[j] as [string, RegExp])[1]));
  });
});

describe('formatConfigError', () => {
  it('prints one line per problem, with the file and key path, and no stack', () => {
    const i = cases.findIndex((c) => c.name === 'negative fps');
    const { file, err } = run(cases[i] as Case, i);
    expect(formatConfigError(err as ConfigError)).toBe(`config error in ${file}: cameras.front.source.fps: must be 0 (on demand) or a positive number (got -1)`);
  });

  it('omits the key for problems with the file itself', () => {
    const err = new ConfigError('/etc/x.json', [{ key: '', message: 'config file not found' }, { key: 'a.b', message: 'bad' }]);
    expect(formatConfigError(err)).toBe('config error in /etc/x.json: config file not found\nconfig error in /etc/x.json: a.b: bad');
    expect(err.message).toBe(formatConfigError(err));
    expect(err.name).toBe('ConfigError');
  });

  it('never shows a sensitive value', () => {
    const i = cases.length;
    const { err } = run({ name: 'password', config: withValid({ mqtt: { password: 12345678 } }), expected: [] }, i);
    const text = formatConfigError(err as ConfigError);
    expect(text).toMatch(/mqtt\.password: must be a string, or null$/);
    expect(text).not.toContain('12345678');
  });
});

describe('durations and rates', () => {
  // What a key's largest value means in ms, by the unit its name gives; rates become a period.
  const trees: [string, SchemaTree][] = [['', appSchema as unknown as SchemaTree], ...Object.entries(cameraSchemas).map(([t, s]) => [`cameras(${t}).`, s as unknown as SchemaTree] as [string, SchemaTree])];
  const limits: [string, number][] = [];
  for (const [prefix, tree] of trees) {
    for (const [key, s] of leaves(tree)) {
      const name = key.split('.').pop() as string;
      const describe = (s.format as { describe?: string }).describe ?? '';
      const max = /(?:\.\.|<= )([\d.e+]+)/.exec(describe)?.[1];
      if (/Ms$/.test(name)) limits.push([prefix + key, Number(max)]);
      else if (/(Sec|Seconds)$/.test(name)) limits.push([prefix + key, Number(max) * 1000]);
      else if (/^(fps|framerate)$/.test(name)) limits.push([prefix + key, /1\/86400/.test(describe) ? 86_400_000 : NaN]);
    }
  }

  it('finds the duration and rate keys', () => expect(limits.length).toBeGreaterThanOrEqual(11));

  it.each(limits)('%s cannot ask for a timer longer than Node can hold', (_key, ms) => {
    expect(ms).toBeLessThanOrEqual(MAX_TIMER_MS);
  });
});
