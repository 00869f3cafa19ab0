import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../src/cli/check-config.js';
import { runCommand } from '../../src/cli/run.js';
import { cliTestMs } from '../helpers/budgets.js';
import { captureIo, runCli } from '../helpers/cli.js';
import { IMAGES, SSD_V1, V1_025, model } from '../helpers/paths.js';
import { rmSync } from 'node:fs';

/**
 * check-config and run must agree: a config check-config calls valid starts, and one the daemon would refuse at start
 * is refused by check-config with exit 78, naming the key (systemd does not restart on 78; it restart-loops on 1).
 */
const dir = mkdtempSync(join(tmpdir(), 'me-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

type Json = Record<string, unknown>;
const base = (detector: Json = {}, extra: Json = {}): Json => ({
  device: { id: 'parity' },
  cameras: { cam: { source: { type: 'files', path: IMAGES, fps: 0 } } },
  detector: { backend: 'cpu', model: { cpu: SSD_V1 }, ...detector },
  mqtt: { url: 'mqtt://127.0.0.1:1', outbox: { dir: null } },
  ...extra,
});
const ssd = readFileSync(SSD_V1);

const cases: [string, () => string, string, RegExp][] = [
  ['a truncated model', () => JSON.stringify(base({ model: { cpu: file('trunc.tflite', ssd.subarray(0, 1000)) } })), 'detector.model.cpu', /truncated or corrupt/],
  ['a model of random bytes', () => JSON.stringify(base({ model: { cpu: file('random.tflite', Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251))) } })), 'detector.model.cpu', /not a TFLite model/],
  ['an empty model', () => JSON.stringify(base({ model: { cpu: file('empty.tflite', '') } })), 'detector.model.cpu', /empty \(0 bytes\)/],
  ['an Edge TPU model as the CPU model, under another name', () => JSON.stringify(base({ model: { cpu: file('renamed.tflite', readFileSync(model('mobilenet_v1_0.25_128_quant_edgetpu.tflite'))) } })), 'detector.model.cpu', /compiled for the Edge TPU/],
  ['an empty labels file', () => JSON.stringify(base({ labels: file('empty.txt', '') })), 'detector.labels', /is empty/],
  ['a labels file shorter than the SSD\'s classes', () => JSON.stringify(base({ labels: file('short.txt', 'person\nbicycle\ncar\n') })), 'detector.labels', /names 3 classes but coco_ssd.* has 90/],
  ['a labels file shorter than the classifier\'s classes', () => JSON.stringify(base({ model: { cpu: V1_025 }, labels: file('short2.txt', 'background\ntench\n') })), 'detector.labels', /names 2 classes but mobilenet_v1_0\.25_128_quant\.tflite has 1001/],
  ['maxMessages 1e300', () => JSON.stringify(base({}, { mqtt: { url: 'mqtt://127.0.0.1:1', outbox: { dir: null, maxMessages: 1e300 } } })), 'mqtt.outbox.maxMessages', /1\.\.1000000/],
  ['a 70000-character device id', () => JSON.stringify({ ...base(), device: { id: 'd'.repeat(70_000) } }), 'device.id', /at most 128 bytes \(got 70000\)/],
  ['a camera named __proto__', () => JSON.stringify(base()).replace('"cameras":{"cam":', '"cameras":{"__proto__":'), 'cameras.__proto__', /JavaScript drops it/],
  ['a camera named constructor', () => JSON.stringify(base()).replace('"cameras":{"cam":', '"cameras":{"constructor":'), 'cameras.constructor', /reserved/],
  ['a top-level constructor key', () => JSON.stringify({ ...base(), constructor: { a: 1 } }), 'constructor', /unknown key/],
  ['TLS keys on a plain mqtt:// URL', () => JSON.stringify(base({}, { mqtt: { url: 'mqtt://127.0.0.1:1', tls: { ca: SSD_V1 }, outbox: { dir: null } } })), 'mqtt.tls.ca', /use mqtts:\/\//],
  ['topicPrefix $SYS', () => JSON.stringify(base({}, { mqtt: { url: 'mqtt://127.0.0.1:1', topicPrefix: '$SYS/me', outbox: { dir: null } } })), 'mqtt.topicPrefix', /belong to the broker/],
  ['a config nested 2000 levels deep', () => JSON.stringify(base()).replace(/}$/, `,"x":${'['.repeat(2000)}${']'.repeat(2000)}}`), '', /more than 32 levels deep/],
  ['a config of 2 MB', () => JSON.stringify({ ...base(), x: 'a'.repeat(2_000_000) }), '', /at most 1048576/],
];

describe('check-config and run agree on what they refuse', () => {
  it.each(cases)('%s: both exit 78 naming the key', async (_name, content, key, message) => {
    const cfg = file(`config-${Math.random().toString(36).slice(2)}.json`, content());
    const check = captureIo();
    expect(await checkConfigCommand(['--config', cfg], check)).toBe(78);
    const run = captureIo();
    expect(await runCommand(['--config', cfg], run)).toBe(78);
    for (const text of [check.err(), run.err()]) {
      const line = text.split('\n').find((l) => message.test(l));
      expect(line, text).toBeDefined();
      expect(line).toContain(`config error in ${cfg}: ${key ? `${key}: ` : ''}`);
      expect(text).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('check-config on a 150000-level nesting answers at once (it spun for minutes)', async () => {
    const cfg = file('deep.json', JSON.stringify(base()).replace(/}$/, `,"x":${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}}`));
    const io = captureIo();
    const t0 = performance.now();
    expect(await checkConfigCommand(['--config', cfg], io)).toBe(78);
    expect(io.err()).toMatch(/more than 32 levels deep/);
    expect(performance.now() - t0).toBeLessThan(5000); // a linear scan of 1.4 MB: milliseconds; minutes before
  });

  it('check-config warns about a files camera whose folder holds no images (the camera would not start; the others would)', async () => {
    const empty = join(dir, 'no-images');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'notes.txt'), 'not an image');
    const cfg = file('empty-folder.json', JSON.stringify({ ...base(), cameras: { yard: { source: { type: 'files', path: empty } } } }));
    const io = captureIo();
    expect(await checkConfigCommand(['--config', cfg], io)).toBe(0);
    expect(io.err()).toContain(`warning: cameras.yard.source.path: ${empty} holds no images (.jpg, .jpeg, .png, .bmp, .webp)`);
    const withImages = captureIo();
    expect(await checkConfigCommand(['--config', file('images.json', JSON.stringify(base()))], withImages)).toBe(0);
    expect(withImages.err()).not.toMatch(/holds no images/);
  });

  it('a valid config passes both, as the real CLI runs it', async () => {
    const cfg = file('good.json', JSON.stringify(base({ labels: model('coco_labels.txt') })));
    const res = await runCli(['check-config', '--config', cfg]);
    expect(res.stderr).toContain('is valid');
    expect(res.code).toBe(0);
  }, cliTestMs(1));
});
