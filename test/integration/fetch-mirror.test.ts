import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchModels, type FetchOptions } from '../../src/models/fetch.js';
import { loadManifest, type Manifest } from '../../src/models/manifest.js';

const SHARED = resolve(process.cwd(), '../shared/models');
const IMAGES = resolve(process.cwd(), '../shared/images');
const SSD = 'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite';
const SAMPLE_FILES = ['cats_and_dogs.jpg', 'grace_hopper.bmp', 'cat.bmp', 'multi_objects.jpg'];
const SMALL = 'mobilenet_v1_0.25_128_quant';

let manifest: Manifest;
const temps: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'fetch-mirror-'));
  temps.push(d);
  return d;
};
const run = (opts: Partial<FetchOptions> & { dir: string }) => fetchModels({ names: [], from: SHARED, manifest, ...opts });

beforeAll(async () => {
  manifest = await loadManifest();
});
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!existsSync(SHARED) || !existsSync(IMAGES))('fetchModels --from ../shared/models --from ../shared/images (needs ../shared)', () => {
  const both = [SHARED, IMAGES];

  it('copies the default models and samples, then finds them up to date, then --force copies again', async () => {
    const dir = join(tempDir(), 'not', 'yet', 'there');
    const first = await run({ dir, from: both });
    expect(first.map((r) => [r.entry.file, r.status, r.verified, r.path])).toEqual([
      [SSD, 'copied', true, join(dir, SSD)],
      ['coco_labels.txt', 'copied', true, join(dir, 'coco_labels.txt')],
      ...SAMPLE_FILES.map((f) => [f, 'copied', true, join(dir, 'samples', f)]),
    ]);
    expect(readFileSync(join(dir, SSD)).equals(readFileSync(join(SHARED, SSD)))).toBe(true);
    for (const f of SAMPLE_FILES) expect(readFileSync(join(dir, 'samples', f)).equals(readFileSync(join(IMAGES, f))), f).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['coco_labels.txt', SSD, 'samples'].sort());
    expect(readdirSync(join(dir, 'samples')).sort()).toEqual([...SAMPLE_FILES].sort());

    const second = await run({ dir, from: both });
    expect(second.map((r) => [r.status, r.verified, r.message])).toEqual(
      Array.from({ length: 6 }, () => ['up-to-date', true, 'sha256 verified']),
    );
    expect((await run({ dir, from: both, force: true })).map((r) => r.status)).toEqual(Array.from({ length: 6 }, () => 'copied'));
    expect(readdirSync(dir).sort()).toEqual(['coco_labels.txt', SSD, 'samples'].sort());
    expect(readdirSync(join(dir, 'samples')).sort()).toEqual([...SAMPLE_FILES].sort());
  });

  it('looks in the mirrors in the order given: the first that has the file wins', async () => {
    const first = tempDir();
    writeFileSync(join(first, 'cat.bmp'), 'not the cat');
    const dir = tempDir();
    const [tampered] = await run({ dir, from: [first, IMAGES], names: ['cat'] });
    expect(tampered!.status).toBe('failed');
    expect(tampered!.message).toContain(`from ${join(first, 'cat.bmp')}: expected 34f235786382`);
    expect(readdirSync(join(dir, 'samples'))).toEqual([]);
    const [copied] = await run({ dir, from: [IMAGES, first], names: ['cat'] });
    expect(copied).toMatchObject({ status: 'copied', verified: true, path: join(dir, 'samples', 'cat.bmp') });
  });

  it('names every directory searched when a sample is in none of them', async () => {
    const empty = tempDir();
    const dir = tempDir();
    const [report] = await run({ dir, from: [SHARED, empty, join(empty, 'nope')], names: ['grace_hopper.bmp'] });
    expect(report!.status).toBe('failed');
    expect(report!.message).toBe(
      `not in any mirror: ${join(SHARED, 'grace_hopper.bmp')}, ${join(empty, 'grace_hopper.bmp')} and ${join(empty, 'nope', 'grace_hopper.bmp')} are missing`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes a single mirror as a one-element array, and never looks inside a mirror\'s samples/', async () => {
    const mirror = tempDir();
    mkdirSync(join(mirror, 'samples'));
    copyFileSync(join(IMAGES, 'cat.bmp'), join(mirror, 'samples', 'cat.bmp'));
    const [report] = await run({ dir: tempDir(), from: [mirror], names: ['cat'] });
    expect(report!.message).toBe(`not in the mirror: ${join(mirror, 'cat.bmp')} is missing`);
  });
});

describe.skipIf(!existsSync(SHARED))('fetchModels --from ../shared/models (needs ../shared/models)', () => {
  it('fails only the samples when the one mirror has the models but not the photos', async () => {
    const dir = tempDir();
    const reports = await run({ dir });
    expect(reports.map((r) => [r.entry.file, r.status])).toEqual([
      [SSD, 'copied'],
      ['coco_labels.txt', 'copied'],
      ...SAMPLE_FILES.map((f) => [f, 'failed']),
    ]);
    expect(reports[2]!.message).toBe(`not in the mirror: ${join(SHARED, 'cats_and_dogs.jpg')} is missing`);
    expect(readdirSync(dir).sort()).toEqual(['coco_labels.txt', SSD]);
  });

  it('replaces a corrupted destination file and says so', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'coco_labels.txt'), 'not the labels\n');
    const logs: string[] = [];
    const [report] = await run({ dir, names: ['coco_labels'], log: (m) => logs.push(m) });
    expect(report!.status).toBe('copied');
    expect(logs.join('\n')).toContain('differs from the manifest');
    expect(readFileSync(join(dir, 'coco_labels.txt'))).toEqual(readFileSync(join(SHARED, 'coco_labels.txt')));
  });

  it('fails on a tampered mirror copy, naming both sums, and leaves no file or part file', async () => {
    const mirror = tempDir();
    const dir = tempDir();
    const bytes = readFileSync(join(SHARED, `${SMALL}.tflite`));
    bytes[1000] = bytes[1000]! ^ 0xff;
    writeFileSync(join(mirror, `${SMALL}.tflite`), bytes);
    copyFileSync(join(SHARED, 'imagenet_labels.txt'), join(mirror, 'imagenet_labels.txt'));

    const reports = await run({ dir, from: mirror, names: [SMALL] });
    expect(reports.map((r) => [r.entry.name, r.status])).toEqual([
      [SMALL, 'failed'],
      ['imagenet_labels', 'copied'],
    ]);
    expect(reports[0]!.message).toMatch(/sha256 mismatch .*expected cb273c23ee76.*, got [0-9a-f]{64}/);
    expect(readdirSync(dir)).toEqual(['imagenet_labels.txt']);
  });

  it('names the missing path when the mirror lacks a file', async () => {
    const dir = tempDir();
    const [report] = await run({ dir, names: ['ssd_mobilenet_v2_coco_quant_postprocess'], dependencies: false });
    expect(report!.status).toBe('failed');
    expect(report!.message).toBe(`not in the mirror: ${join(SHARED, 'ssd_mobilenet_v2_coco_quant_postprocess.tflite')} is missing`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('says "no checksum published" rather than pretending to verify', async () => {
    const dir = tempDir();
    const unpinned: Manifest = { ...manifest, models: manifest.models.map((e) => (e.name === SMALL ? { ...e, sha256: null } : e)) };
    const [copied] = await run({ dir, manifest: unpinned, names: [SMALL], dependencies: false });
    expect(copied).toMatchObject({ status: 'copied', verified: false, bytes: 525598 });
    expect(copied!.message).toContain('no checksum published; size 525598 bytes');
    const [again] = await run({ dir, manifest: unpinned, names: [SMALL], dependencies: false });
    expect(again).toMatchObject({ status: 'up-to-date', verified: false });
    expect(again!.message).toContain('no checksum published');
  });

  it('removes the part file when aborted mid-copy, and skips the entries after it', async () => {
    const dir = tempDir();
    const ctl = new AbortController();
    const reports = await run({
      dir,
      names: [SSD],
      signal: ctl.signal,
      progress: (_e, received) => {
        if (received > 0) ctl.abort();
      },
    });
    expect(reports.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(reports[1]!.message).toBe('aborted before it started');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails clearly when the directory cannot be created', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    await expect(run({ dir: join(file, 'models') })).rejects.toThrow(`cannot create models directory ${join(file, 'models')}`);
  });
});
