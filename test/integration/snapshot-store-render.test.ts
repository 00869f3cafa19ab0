import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import sharp from 'sharp';
import { renderSnapshot } from '../../src/snapshots/render.js';
import { SnapshotStore } from '../../src/snapshots/store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapshot-it-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('snapshots: render and store together', () => {
  it('a reader polling the directory only ever sees whole JPEGs while saves and pruning run', async () => {
    // Noise compresses badly: big files make a torn write observable if the store ever wrote in place.
    const width = 1280;
    const height = 720;
    const data = randomFillSync(Buffer.alloc(width * height * 3));
    const jpegs = await Promise.all(
      [0, 1, 2].map((i) => renderSnapshot({ width, height, data }, [{ box: { xmin: 0.1 * i, ymin: 0.1, xmax: 0.5 + 0.1 * i, ymax: 0.9 }, label: 'person', score: 0.9 }], { maxWidth: 1280, quality: 95 })),
    );
    expect(jpegs[0]?.length).toBeGreaterThan(300_000);
    const sizes = new Set(jpegs.map((j) => j.length));

    const store = new SnapshotStore(dir, 3);
    let writing = true;
    let checked = 0;
    const reader = (async () => {
      while (writing) {
        for (const name of await readdir(dir).catch(() => [] as string[])) {
          if (!name.endsWith('.jpg')) continue;
          const bytes = await readFile(join(dir, name)).catch(() => null); // pruned between readdir and read: fine
          if (!bytes) continue;
          checked++;
          expect(sizes.has(bytes.length), `${name}: ${bytes.length} bytes`).toBe(true);
          expect(bytes.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const results = [];
    for (let i = 0; i < 30; i++) results.push(await store.save('front', `ev${i % 5}`, jpegs[i % 3] as Buffer, 1_000 + i));
    writing = false;
    await reader;

    expect(results.every((r) => r.ok)).toBe(true);
    expect(checked).toBeGreaterThan(0);
    const left = await readdir(dir);
    expect(left.sort()).toEqual(['front-ev2-1027.jpg', 'front-ev3-1028.jpg', 'front-ev4-1029.jpg']);
    const meta = await sharp(await readFile(join(dir, 'front-ev4-1029.jpg'))).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1280, 720]);
  });
});
