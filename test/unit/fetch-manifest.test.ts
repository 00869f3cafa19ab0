import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MANIFEST_PATH,
  defaultEntries,
  entryPath,
  entryRelativePath,
  findEntries,
  loadManifest,
  parseManifest,
  UnknownModelError,
  withDependencies,
  type Manifest,
} from '../../src/models/manifest.js';

const SHARED = resolve(process.cwd(), '../shared/models');
const IMAGES = resolve(process.cwd(), '../shared/images');
const SAMPLES = ['cats_and_dogs', 'grace_hopper', 'cat', 'multi_objects'];
const CORAL = 'https://github.com/google-coral/test_data/raw/master/';
const TFLITE_SUPPORT = 'https://github.com/tensorflow/tflite-support/raw/master/tensorflow_lite_support/cc/test/testdata/task/vision/';

let manifest: Manifest;
beforeAll(async () => {
  manifest = await loadManifest();
});

const byName = (name: string) => manifest.models.find((e) => e.name === name)!;

describe('models/manifest.json', () => {
  it('validates and holds the expected entries', () => {
    expect(manifest.source).toBe(DEFAULT_MANIFEST_PATH);
    expect(manifest.models.map((e) => e.name).sort()).toEqual(
      [
        'coco_labels',
        'coco_ssd_mobilenet_v1_1.0_quant_2018_06_29',
        'imagenet_labels',
        'mobilenet_v1_0.25_128_quant',
        'mobilenet_v1_0.25_128_quant_edgetpu',
        'mobilenet_v1_0.5_160_quant',
        'mobilenet_v1_0.5_160_quant_edgetpu',
        'mobilenet_v1_0.75_192_quant',
        'mobilenet_v1_0.75_192_quant_edgetpu',
        'mobilenet_v2_1.0_224_quant',
        'mobilenet_v2_1.0_224_quant_edgetpu',
        'ssd_mobilenet_v2_coco_quant_postprocess',
        'ssd_mobilenet_v2_coco_quant_postprocess_edgetpu',
        ...SAMPLES,
      ].sort(),
    );
    expect(defaultEntries(manifest).map((e) => e.name)).toEqual(['coco_ssd_mobilenet_v1_1.0_quant_2018_06_29', 'coco_labels', ...SAMPLES]);
  });

  it('names the public URLs: Coral test_data, and tflite-support for the SSD v1 demo model and the JPEG samples', () => {
    const fromTfliteSupport = ['coco_ssd_mobilenet_v1_1.0_quant_2018_06_29', 'cats_and_dogs', 'multi_objects'];
    for (const e of manifest.models) {
      const base = fromTfliteSupport.includes(e.name) ? TFLITE_SUPPORT : CORAL;
      expect(e.url, e.name).toBe(base + e.file);
    }
  });

  it('holds the demo\'s sample photos: default, pinned, no model fields, stored under samples/', () => {
    const samples = manifest.models.filter((e) => e.kind === 'sample');
    expect(samples.map((e) => e.file)).toEqual(['cats_and_dogs.jpg', 'grace_hopper.bmp', 'cat.bmp', 'multi_objects.jpg']);
    for (const e of samples) {
      expect(e, e.name).toMatchObject({ backend: null, twin: null, labels: null, input: null, default: true });
      expect(e.sha256, e.name).toMatch(/^[0-9a-f]{64}$/);
      expect(entryRelativePath(e)).toBe(join('samples', e.file));
      expect(entryPath('/m', e)).toBe(join('/m', 'samples', e.file));
    }
    expect(entryPath('/m', byName('coco_labels'))).toBe(join('/m', 'coco_labels.txt'));
  });

  it('leaves sha256 null only for the files nobody here could hash', () => {
    expect(manifest.models.filter((e) => e.sha256 === null).map((e) => e.name).sort()).toEqual([
      'mobilenet_v2_1.0_224_quant_edgetpu',
      'ssd_mobilenet_v2_coco_quant_postprocess',
      'ssd_mobilenet_v2_coco_quant_postprocess_edgetpu',
    ]);
  });

  it('pairs every twin both ways, across backends, and references existing labels entries', () => {
    for (const e of manifest.models) {
      if (e.twin !== null) {
        expect(byName(e.twin).twin, e.name).toBe(e.name);
        expect(byName(e.twin).backend, e.name).not.toBe(e.backend);
      }
      if (e.labels !== null) expect(byName(e.labels).kind, e.name).toBe('labels');
      if (e.backend === 'edgetpu') expect(e.twin, `${e.name} needs a CPU twin for the fallback`).not.toBeNull();
    }
  });
});

describe.skipIf(!existsSync(SHARED))('models/manifest.json sha256 sums (needs ../shared/models)', () => {
  it('every published sha256 matches the real file, and every file there has one', () => {
    let checked = 0;
    const models = manifest.models.filter((e) => e.kind !== 'sample');
    for (const e of models) {
      const path = join(SHARED, e.file);
      if (!existsSync(path)) continue;
      expect(e.sha256, `${e.file} is in ../shared/models, so its sha256 is known`).not.toBeNull();
      expect(createHash('sha256').update(readFileSync(path)).digest('hex'), e.file).toBe(e.sha256);
      checked++;
    }
    expect(checked).toBe(models.filter((e) => e.sha256 !== null).length);
  });
});

describe.skipIf(!existsSync(IMAGES))('models/manifest.json sample sha256 sums (needs ../shared/images)', () => {
  it('every sample is in ../shared/images and its sha256 matches', () => {
    const samples = manifest.models.filter((e) => e.kind === 'sample');
    expect(samples).toHaveLength(SAMPLES.length);
    for (const e of samples) {
      const path = join(IMAGES, e.file);
      expect(existsSync(path), `${e.file} is in ../shared/images`).toBe(true);
      expect(createHash('sha256').update(readFileSync(path)).digest('hex'), e.file).toBe(e.sha256);
    }
  });
});

describe('parseManifest', () => {
  const entry = (over: Record<string, unknown> = {}) => ({
    name: 'm',
    file: 'm.tflite',
    url: 'https://example.invalid/m.tflite',
    sha256: 'a'.repeat(64),
    kind: 'classification',
    backend: 'cpu',
    twin: null,
    labels: null,
    input: '224x224',
    default: false,
    description: 'd',
    ...over,
  });
  const sample = (over: Record<string, unknown> = {}) =>
    entry({ name: 's', file: 's.jpg', url: 'https://example.invalid/s.jpg', kind: 'sample', backend: null, input: null, ...over });
  const labelsEntry = entry({ name: 'l', file: 'l.txt', kind: 'labels', backend: null, input: null });
  const parse = (models: unknown[]) => () => parseManifest({ version: 1, models }, '/x/manifest.json');

  it('accepts a minimal entry', () => {
    expect(parse([entry()])().models[0]!.name).toBe('m');
  });

  it.each(['s.jpg', 's.jpeg', 's.png', 's.bmp'])('accepts a sample %s', (file) => {
    expect(parse([sample({ file })])().models[0]).toMatchObject({ kind: 'sample', file, backend: null, input: null });
  });

  it.each([
    ['a bad sha256', [entry({ sha256: 'abc' })], /\/x\/manifest\.json: models\[0\] \("m"\): sha256 must be 64/],
    ['a file that is not name + extension', [entry({ file: 'other.tflite' })], /models\[0\] \("m"\): file must be "m.tflite"/],
    ['an unknown kind', [entry({ kind: 'yolo' })], /kind must be one of/],
    ['a missing twin', [entry({ twin: 'ghost' })], /models\[0\] \("m"\): twin "ghost" is not in the manifest/],
    [
      'a one-way twin',
      [entry({ twin: 'm_edgetpu' }), entry({ name: 'm_edgetpu', file: 'm_edgetpu.tflite', backend: 'edgetpu' })],
      /twin "m_edgetpu" does not name "m"/,
    ],
    ['unknown labels', [entry({ labels: 'nope' })], /labels "nope" is not a labels entry/],
    ['a duplicate name', [entry(), entry()], /models\[1\] \("m"\): duplicate name/],
    ['a non-http url', [entry({ url: 'ftp://x/m.tflite' })], /url is not an http\(s\) URL/],
    ['a model without input', [entry({ input: null })], /input must look like "300x300"/],
    ['a name with a path separator', [entry({ name: '../m', file: '../m.tflite' })], /models\[0\] \("\.\.\/m"\): name must be/],
    ['a sample that is not an image', [sample({ file: 's.gif' })], /models\[0\] \("s"\): file must be "s" plus one of \.jpg, \.jpeg, \.png, \.bmp, got "s\.gif"/],
    ['a sample named unlike its file', [sample({ file: 'other.jpg' })], /file must be "s" plus one of/],
    ['a sample with a .tflite file', [sample({ file: 's.tflite' })], /file must be "s" plus one of/],
    ['a sample with a backend', [sample({ backend: 'cpu' })], /models\[0\] \("s"\): a sample entry has null backend, input, twin and labels/],
    ['a sample with an input', [sample({ input: '300x300' })], /a sample entry has null backend/],
    ['a sample with labels', [sample({ labels: 'l' }), labelsEntry], /a sample entry has null backend/],
    ['a model whose labels are a sample', [entry({ labels: 's' }), sample()], /labels "s" is not a labels entry/],
  ])('rejects %s, naming the file and entry', (_what, models, message) => {
    expect(parse(models)).toThrow(message);
  });

  it('rejects another version', () => {
    expect(() => parseManifest({ version: 2, models: [] }, 'f.json')).toThrow('f.json: version: expected 1, got 2');
  });
});

describe('findEntries', () => {
  it('accepts names with or without the extension, in the order given, once each', () => {
    const found = findEntries(manifest, ['coco_labels.txt', 'mobilenet_v1_0.25_128_quant.tflite', 'coco_labels', 'cat.bmp', 'cat', 'multi_objects']);
    expect(found.map((e) => e.name)).toEqual(['coco_labels', 'mobilenet_v1_0.25_128_quant', 'cat', 'multi_objects']);
  });

  it('does not take another image extension for a sample', () => {
    expect(() => findEntries(manifest, ['cat.jpg'])).toThrow(UnknownModelError);
  });

  it('rejects unknown names, listing every known one', () => {
    let error: unknown;
    try {
      findEntries(manifest, ['coco_labels', 'yolov8.tflite']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnknownModelError);
    const message = (error as Error).message;
    expect(message).toContain('unknown model "yolov8.tflite"');
    for (const e of manifest.models) expect(message).toContain(e.name);
  });
});

describe('withDependencies', () => {
  it('adds the CPU twin of an Edge TPU model and the labels', () => {
    const out = withDependencies(manifest, findEntries(manifest, ['mobilenet_v1_0.5_160_quant_edgetpu']));
    expect(out.map((e) => e.name)).toEqual(['mobilenet_v1_0.5_160_quant_edgetpu', 'mobilenet_v1_0.5_160_quant', 'imagenet_labels']);
  });

  it('adds nothing to a sample', () => {
    expect(withDependencies(manifest, findEntries(manifest, ['grace_hopper'])).map((e) => e.name)).toEqual(['grace_hopper']);
  });

  it('does not add the Edge TPU twin of a CPU model', () => {
    const out = withDependencies(manifest, findEntries(manifest, ['coco_ssd_mobilenet_v1_1.0_quant_2018_06_29', 'coco_labels']));
    expect(out.map((e) => e.name)).toEqual(['coco_ssd_mobilenet_v1_1.0_quant_2018_06_29', 'coco_labels']);
  });
});
