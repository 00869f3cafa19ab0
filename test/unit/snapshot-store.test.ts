import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotStore, fileSafe, snapshotFileName } from '../../src/snapshots/store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapshot-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const jpeg = (n: number): Buffer => Buffer.from([0xff, 0xd8, n & 0xff, 0xff, 0xd9]);

describe('snapshot file names', () => {
  it('is <camera>-<eventId>-<ts>.jpg with unsafe characters replaced', () => {
    expect(snapshotFileName('front', 'ev1', 1700000000123)).toBe('front-ev1-1700000000123.jpg');
    expect(snapshotFileName('../etc', 'a/b c', 5)).toBe('___etc-a_b_c-5.jpg');
    expect(fileSafe('')).toBe('_');
  });
});

describe('SnapshotStore', () => {
  it('writes the file under its final name with the exact bytes, creating the directory', async () => {
    const sub = join(dir, 'a', 'b');
    const store = new SnapshotStore(sub, 5);
    const r = await store.save('front', 'e1', jpeg(1), 1000);
    expect(r).toEqual({ ok: true, path: join(sub, 'front-e1-1000.jpg'), pruned: 0 });
    expect(await readFile(join(sub, 'front-e1-1000.jpg'))).toEqual(jpeg(1));
    expect(await readdir(sub)).toEqual(['front-e1-1000.jpg']);
  });

  it('keeps only the newest `keep` snapshots, by timestamp, across cameras', async () => {
    const store = new SnapshotStore(dir, 3);
    // Saved out of time order: retention goes by the timestamp in the name, not by write order.
    for (const [cam, ts] of [['a', 5000], ['b', 1000], ['a', 3000], ['b', 4000], ['a', 2000]] as const) {
      const r = await store.save(cam, `ev${ts}`, jpeg(ts), ts);
      expect(r.ok).toBe(true);
    }
    expect(await store.list()).toEqual(['a-ev3000-3000.jpg', 'b-ev4000-4000.jpg', 'a-ev5000-5000.jpg']);
  });

  it('leaves files it did not write alone', async () => {
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    await writeFile(join(dir, 'holiday.jpg'), 'keep me too');
    const store = new SnapshotStore(dir, 1);
    await store.save('c', 'e', jpeg(1), 1);
    await store.save('c', 'e', jpeg(2), 2);
    expect((await readdir(dir)).sort()).toEqual(['c-e-2.jpg', 'holiday.jpg', 'notes.txt']);
  });

  it('removes temporary files left by a crash, and never lists them', async () => {
    await writeFile(join(dir, '.snapshot-deadbeef.tmp'), 'half a jpeg');
    const store = new SnapshotStore(dir, 10);
    expect(await store.list()).toEqual([]);
    const r = await store.save('c', 'e', jpeg(1), 1);
    expect(r).toMatchObject({ ok: true, pruned: 1 });
    expect(await readdir(dir)).toEqual(['c-e-1.jpg']);
  });

  it('serialises concurrent saves: every one lands whole and retention still holds', async () => {
    const store = new SnapshotStore(dir, 4);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.save('cam', `e${i}`, jpeg(i), 100 + i)));
    expect(results.every((r) => r.ok)).toBe(true);
    const names = await store.list();
    expect(names).toEqual(['cam-e8-108.jpg', 'cam-e9-109.jpg', 'cam-e10-110.jpg', 'cam-e11-111.jpg']);
    expect(await readFile(join(dir, 'cam-e11-111.jpg'))).toEqual(jpeg(11));
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('returns and logs an error for an unwritable directory instead of throwing', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const warnings: unknown[] = [];
    const store = new SnapshotStore(join(dir, 'file', 'snaps'), 3, { logger: { warn: (obj: unknown) => void warnings.push(obj) } as never });
    const r = await store.save('c', 'e', jpeg(1), 1);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/ENOTDIR|EEXIST/);
    expect(warnings).toHaveLength(1);
    expect(await store.list()).toEqual([]);
    // The store keeps working once the problem is gone.
    const ok = new SnapshotStore(dir, 3);
    expect((await ok.save('c', 'e', jpeg(1), 1)).ok).toBe(true);
  });

  it('uses the injected clock when no timestamp is given', async () => {
    const store = new SnapshotStore(dir, 3, { now: () => 42 });
    const r = await store.save('c', 'e', jpeg(1));
    expect(r.ok && r.path).toBe(join(dir, 'c-e-42.jpg'));
  });

  it('refuses a keep below 1', () => {
    expect(() => new SnapshotStore(dir, 0)).toThrow(RangeError);
  });
});
