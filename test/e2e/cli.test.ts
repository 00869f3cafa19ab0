import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliTestMs } from '../helpers/budgets.js';
import { runCli, spawnCli, waitExit } from '../helpers/cli.js';
import { pngBomb } from '../helpers/image-bombs.js';
import { SSD_V1, V2_224, image, model } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'me-cli-'));
const noStack = (s: string): void => expect(s).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);

// Every test runs the CLI from source (2-5 s to start on a loaded machine): each gets a budget per run it makes.
describe('mobilenet-edge detect', { timeout: cliTestMs(1) }, () => {
  it('| head -1: ends quietly when the reader goes away (status 141 like a SIGPIPE), no EPIPE stack', async () => {
    // Many images, so that lines are still to be written when the reader has gone.
    const images = Array.from({ length: 8 }, () => ['cat.bmp', 'bird.bmp', 'grace_hopper.bmp'].map(image)).flat();
    const child = spawnCli(['detect', '--model', V2_224, ...images]);
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    child.stdout!.destroy(); // what `head -1` does after its line
    const exit = await waitExit(child, 60_000);
    expect(exit).toEqual({ code: 141, signal: null }); // before: 1, with "Unhandled 'error' event ... EPIPE"
    expect(child.output().stderr).not.toMatch(/EPIPE|Unhandled/);
    noStack(child.output().stderr);
  });

  it('--json: one object per image with normalised boxes (SSD on cats_and_dogs.jpg)', async () => {
    const r = await runCli(['detect', '--json', '--min-score', '0.4', '--model', SSD_V1, image('cats_and_dogs.jpg')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(Object.keys(out)).toEqual(['image', 'width', 'height', 'model', 'kind', 'results']);
    expect(out).toMatchObject({ image: image('cats_and_dogs.jpg'), width: 1200, height: 600, kind: 'ssd', model: 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite' });
    const labels = out.results.map((x: { label: string }) => x.label);
    expect(labels).toContain('cat');
    expect(labels).toContain('dog');
    for (const x of out.results) {
      expect(Object.keys(x)).toEqual(['label', 'classId', 'score', 'box']);
      expect(x.score).toBeGreaterThanOrEqual(0.4);
    }
  });

  it('classifies several images, one line each, in order', async () => {
    const r = await runCli(['detect', '--json', '--model', V2_224, image('grace_hopper.bmp'), image('cat.bmp')]);
    expect(r.code).toBe(0);
    const [hopper, cat] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(hopper.kind).toBe('classification');
    expect(hopper.results[0].label).toBe('military uniform');
    expect(hopper.results[0].box).toBeUndefined();
    expect(cat.image).toBe(image('cat.bmp'));
    expect(cat.results[0].label).toMatch(/cat|tabby/);
  });

  it('names an unreadable image and a missing one, still handles the good one, and exits non-zero', async () => {
    const broken = join(dir, 'broken.jpg');
    writeFileSync(broken, readFileSync(image('burger.jpg')).subarray(0, 3000));
    const r = await runCli(['detect', '--json', '--model', SSD_V1, broken, image('cats_and_dogs.jpg'), join(dir, 'nope.jpg')]);
    expect(r.code).toBe(66);
    expect(r.stderr).toContain(`error: ${broken}: cannot decode`);
    expect(r.stderr).toContain(`error: ${join(dir, 'nope.jpg')}: no such file`);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    noStack(r.stderr);
  });

  it('refuses an image bomb from its header (exit 65, naming its size and the limit) and still handles the good image', async () => {
    const bomb = join(dir, 'BOMB.png');
    writeFileSync(bomb, pngBomb(16000, 16000));
    const r = await runCli(['detect', '--json', '--model', SSD_V1, bomb, image('cats_and_dogs.jpg')]);
    expect(r.code).toBe(65);
    expect(r.stderr).toBe(`error: ${bomb}: image too large: 16000x16000 (256 MP) is over the 50 MP limit; not decoded\n`);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).image)).toEqual([image('cats_and_dogs.jpg')]);
  });

  it('refuses a file that is not a model, and an Edge TPU model on the CPU, naming them', async () => {
    const notModel = join(dir, 'notes.tflite');
    writeFileSync(notModel, 'hello');
    const a = await runCli(['detect', '--model', notModel, image('cat.bmp')]);
    expect(a.code).toBe(65);
    expect(a.stderr).toMatch(new RegExp(`${notModel}.*not a TFLite model`));
    noStack(a.stderr);
    const b = await runCli(['detect', '--model', model('mobilenet_v1_0.25_128_quant_edgetpu.tflite'), image('cat.bmp')]);
    expect(b.code).toBe(65);
    expect(b.stderr).toMatch(/compiled for the Edge TPU.*CPU twin/);
  }, cliTestMs(2));

  it('bad usage exits 64 with a pointer to --help', async () => {
    const r = await runCli(['detect', '--bogus', image('cat.bmp')]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--bogus/);
    expect(r.stderr).toMatch(/--help/);
  });
});

describe('mobilenet-edge detect --classifier (detect, then classify)', { timeout: cliTestMs(1) }, () => {
  const V2 = ['--classifier', V2_224, '--classifier-labels', model('imagenet_labels.txt')];

  it('names the bird of bird.bmp from its crop: a chickadee, in text and in --json', async () => {
    const text = await runCli(['detect', '--model', SSD_V1, ...V2, '--classify-objects', 'bird', image('bird.bmp')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/classified by mobilenet_v2_1\.0_224_quant\.tflite: 1 crop\(s\)/);
    expect(text.stdout).toMatch(/^ {2}bird +0\.\d{3} +\(class 15\) +box .* -> chickadee 0\.\d{3}$/m);
    const json = await runCli(['detect', '--json', '--model', SSD_V1, ...V2, '--classify-objects', 'bird', image('bird.bmp')]);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as { results: { label: string; subLabel?: string; subScore?: number }[]; classifier: { model: string; crops: number } };
    expect(out.results.find((r) => r.label === 'bird')).toMatchObject({ subLabel: 'chickadee' });
    expect(out.results.find((r) => r.label === 'bird')!.subScore).toBeGreaterThan(0.5);
    expect(out.classifier).toEqual({ model: 'mobilenet_v2_1.0_224_quant.tflite', crops: 1 });
  }, cliTestMs(2));

  it('--classify-objects leaves other labels without a sub-label', async () => {
    const r = await runCli(['detect', '--json', '--model', SSD_V1, ...V2, '--classify-objects', 'cat', image('bird.bmp')]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { label: string; subLabel?: string }[]; classifier: { crops: number } };
    expect(out.results.some((d) => d.label === 'bird')).toBe(true);
    expect(out.results.every((d) => d.subLabel === undefined)).toBe(true);
    expect(out.classifier.crops).toBe(0);
  });

  it('refuses a detector given as the classifier (65) and classifier options without --classifier (64), without a stack', async () => {
    const a = await runCli(['detect', '--model', SSD_V1, '--classifier', SSD_V1, image('bird.bmp')]);
    expect(a.code).toBe(65);
    expect(a.stderr).toMatch(/--classifier .*coco_ssd.* is an SSD detector, not a classifier/);
    noStack(a.stderr);
    const b = await runCli(['detect', '--classify-objects', 'bird', image('bird.bmp')]);
    expect(b.code).toBe(64);
    expect(b.stderr).toMatch(/need --classifier MODEL/);
  }, cliTestMs(2));
});

describe('configs and the run command', { timeout: cliTestMs(1) }, () => {
  const write = (name: string, body: unknown): string => {
    const f = join(dir, name);
    writeFileSync(f, typeof body === 'string' ? body : JSON.stringify(body));
    return f;
  };
  const camera = { door: { source: { type: 'files', path: image('cat.bmp') } } };

  it('check-config prints the effective config with the password redacted', async () => {
    const f = write('ok.json', { cameras: camera, detector: { model: { cpu: SSD_V1 } }, mqtt: { username: 'u', password: 'hunter2' } });
    const r = await runCli(['check-config', '--config', f]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('hunter2');
    const cfg = JSON.parse(r.stdout);
    expect(cfg.mqtt.password).toBe('[redacted]');
    expect(cfg.mqtt.username).toBe('u');
    expect(cfg.cameras.door.source.type).toBe('files');
  });

  it('check-config and run exit 78 naming the key and the file, without a stack', async () => {
    const f = write('bad.json', { cameras: { door: { source: { type: 'files', path: image('cat.bmp'), fps: -2 } } }, detector: { model: { cpu: join(dir, 'missing.tflite') } }, mqtt: { url: 'not a url' } });
    for (const cmd of ['check-config', 'run']) {
      const r = await runCli([cmd, '--config', f]);
      expect(r.code).toBe(78);
      expect(r.stderr).toContain(f);
      expect(r.stderr).toContain('cameras.door.source.fps');
      expect(r.stderr).toContain('detector.model.cpu');
      expect(r.stderr).toContain('mqtt.url');
      noStack(r.stderr);
    }
  }, cliTestMs(2));

  it('run with a model that is not a TFLite file: a config error naming the key and the file, exit 78 (systemd does not restart)', async () => {
    const notModel = write('fake.tflite', 'not a model at all');
    const f = write('fake-model.json', { cameras: camera, detector: { backend: 'cpu', model: { cpu: notModel } } });
    const r = await runCli(['run', '--config', f]);
    expect(r.code).toBe(78);
    expect(r.stderr.trim().split('\n')).toEqual([`config error in ${f}: detector.model.cpu: ${notModel} is not a TFLite model (no TFL3 identifier)`]);
    noStack(r.stdout + r.stderr);
  });

  it('--help works for every command; an unknown command exits 64', async () => {
    for (const cmd of ['run', 'check-config', 'detect', 'fetch-models']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/Usage: mobilenet-edge/);
    }
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/Exit codes/);
    const bad = await runCli(['frobnicate']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  }, cliTestMs(6));
});
