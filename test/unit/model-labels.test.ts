import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/inference/model/errors.js';
import { parseLabelLines, readLabelsFile, resolveLabels, splitLabelLines } from '../../src/inference/model/labels.js';

const imagenet = ['background', 'tench, Tinca tinca', 'goldfish, Carassius auratus', ...Array.from({ length: 998 }, (_, i) => `n${i + 3}`)];
// Like the SSD's embedded labelmap.txt: line 0 "person", "???" where COCO skips an id (11).
const coco = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', '???', 'stop sign'];

describe('splitLabelLines', () => {
  it('drops BOM, CRs and trailing empty lines, and keeps everything else raw', () => {
    expect(splitLabelLines('\uFEFFbackground\r\n  tench \r\n\n???\n\n\n')).toEqual(['background', '  tench ', '', '???']);
    expect(splitLabelLines('')).toEqual([]);
  });
});

describe('parseLabelLines', () => {
  it('uses "N label" and "N: label" prefixes as class ids, gaps included', () => {
    const m = parseLabelLines(['0  person', '1: bicycle', '12 stop sign', '']);
    expect([...m.entries()]).toEqual([[0, 'person'], [1, 'bicycle'], [12, 'stop sign']]);
  });

  it('keeps lines positional unless every line has a prefix', () => {
    const m = parseLabelLines(['7 up', 'person']);
    expect(m.get(0)).toBe('7 up');
    expect(m.get(1)).toBe('person');
  });
});

describe('resolveLabels', () => {
  it('maps 1001 ImageNet lines 1:1 onto 1001 outputs, index 0 = background', () => {
    const label = resolveLabels({ embedded: imagenet, numClasses: 1001, kind: 'classification' });
    expect(label(0)).toBe('background');
    expect(label(1)).toBe('tench, Tinca tinca');
    expect(label(1000)).toBe('n1000');
    expect(label(1001)).toBe('class_1001');
    expect(label.size).toBe(1001);
  });

  it('shifts 1000 labels by one for a classifier with 1001 outputs (output 0 = background)', () => {
    const label = resolveLabels({ fileLines: imagenet.slice(1), numClasses: 1001, kind: 'classification' });
    expect(label(0)).toBe('background');
    expect(label(1)).toBe('tench, Tinca tinca');
    expect(label(2)).toBe('goldfish, Carassius auratus');
    expect(label.size).toBe(1001);
  });

  it('never shifts SSD classes down: they are 0-based, 0 = person', () => {
    const label = resolveLabels({ embedded: coco, numClasses: coco.length + 1, kind: 'ssd' });
    expect(label(0)).toBe('person');
    expect(label(12)).toBe('stop sign');
  });

  it('skips a leading "???" filler when the file has one line more than the classes', () => {
    const label = resolveLabels({ fileLines: ['???', ...coco], numClasses: coco.length, kind: 'ssd' });
    expect(label(0)).toBe('person');
    expect(label(12)).toBe('stop sign');
    expect(label.size).toBe(coco.length);
  });

  it('keeps placeholders in place and names them class_<id>', () => {
    const label = resolveLabels({ embedded: coco, kind: 'ssd' });
    expect(label(10)).toBe('fire hydrant');
    expect(label(11)).toBe('class_11');
    expect(label(12)).toBe('stop sign');
    expect(label(13)).toBe('class_13');
    const coral = resolveLabels({ fileLines: ['person', 'n/a', '', 'car'], kind: 'ssd' });
    expect([0, 1, 2, 3].map(coral)).toEqual(['person', 'class_1', 'class_2', 'car']);
  });

  it('uses indexed files by their ids (Coral style, with gaps)', () => {
    const label = resolveLabels({ fileLines: ['0  person', '1  bicycle', '12  stop sign'], numClasses: 90, kind: 'ssd' });
    expect(label(0)).toBe('person');
    expect(label(11)).toBe('class_11');
    expect(label(12)).toBe('stop sign');
  });

  it('prefers the configured file over the embedded labels', () => {
    const label = resolveLabels({ embedded: coco, fileLines: ['cat', 'dog'], kind: 'ssd' });
    expect(label(0)).toBe('cat');
    expect(label(2)).toBe('class_2');
  });

  it('names every class class_<id> without labels, and rejects odd ids the same way', () => {
    const label = resolveLabels({ numClasses: 5, kind: 'classification' });
    expect(label(3)).toBe('class_3');
    expect(label.size).toBe(0);
    const named = resolveLabels({ embedded: coco, kind: 'ssd' });
    expect(named(-1)).toBe('class_-1');
    expect(named(1.5)).toBe('class_1.5');
  });
});

describe('readLabelsFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'model-labels-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads lines', async () => {
    const file = path.join(dir, 'labels.txt');
    writeFileSync(file, 'person\r\nbicycle\n\n');
    expect(await readLabelsFile(file)).toEqual(['person', 'bicycle']);
  });

  it.each([
    ['missing', undefined, /labels file .*missing\.txt does not exist/],
    ['empty', '\n\n', /labels file .*empty\.txt is empty/],
    ['binary', '\u0000\u0001', /labels file .*binary\.txt is not a text file/],
  ])('names the %s file in its error', async (name, content, message) => {
    const file = path.join(dir, `${name}.txt`);
    if (content !== undefined) writeFileSync(file, content);
    const err = await readLabelsFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe(file);
    expect((err as Error).message).toMatch(message);
  });
});
