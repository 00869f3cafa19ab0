import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listImageFiles } from '../../src/camera/image-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'camera-files-'));
const names = (files: string[]): string[] => files.map((f) => path.relative(dir, f));

beforeAll(() => {
  for (const n of ['b.jpg', 'a.PNG', 'frame10.jpg', 'frame2.jpg', 'c.jpeg', 'd.bmp', 'e.webp', 'notes.txt', '.hidden.jpg', 'f.gif']) {
    writeFileSync(path.join(dir, n), 'x');
  }
  mkdirSync(path.join(dir, 'folder.jpg'));
  writeFileSync(path.join(dir, 'folder.jpg', 'inner.jpg'), 'x');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('listImageFiles', () => {
  it('a directory: its images only, non-recursive, in natural name order', async () => {
    expect(names(await listImageFiles(dir))).toEqual(['a.PNG', 'b.jpg', 'c.jpeg', 'd.bmp', 'e.webp', 'frame2.jpg', 'frame10.jpg']);
  });

  it('a pattern matches * and ? on the file name', async () => {
    expect(names(await listImageFiles(path.join(dir, 'frame*.jpg')))).toEqual(['frame2.jpg', 'frame10.jpg']);
    expect(names(await listImageFiles(path.join(dir, '?.jpg')))).toEqual(['b.jpg']);
    expect(names(await listImageFiles(path.join(dir, '*')))).toHaveLength(7);
  });

  it('pattern characters other than * and ? are literal', async () => {
    writeFileSync(path.join(dir, 'x(1).jpg'), 'x');
    try {
      expect(names(await listImageFiles(path.join(dir, 'x(?).jpg')))).toEqual(['x(1).jpg']);
      expect(await listImageFiles(path.join(dir, 'x.1.jpg*'))).toEqual([]);
    } finally {
      rmSync(path.join(dir, 'x(1).jpg'));
    }
  });

  it('a pattern matching nothing gives an empty list; the caller decides', async () => {
    expect(await listImageFiles(path.join(dir, '*.tiff'))).toEqual([]);
  });

  it('a single file is taken as is, whatever its extension', async () => {
    expect(await listImageFiles(path.join(dir, 'notes.txt'))).toEqual([path.join(dir, 'notes.txt')]);
  });

  it('errors name the path', async () => {
    const missing = path.join(dir, 'nope');
    await expect(listImageFiles(missing)).rejects.toThrow(`no such file or directory: ${missing}`);
    await expect(listImageFiles(path.join(missing, '*.jpg'))).rejects.toThrow(missing);
    await expect(listImageFiles(path.join(dir, '*', '*.jpg'))).rejects.toThrow(/only the file name may contain wildcards/);
  });
});
