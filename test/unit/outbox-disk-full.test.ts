import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxFs, type OutboxMessage } from '../../src/publish/outbox.js';
import { createLogger, type Logger } from '../../src/system/logger.js';
import { until } from '../helpers/wait.js';

/*
 * A disk that fills up and frees up again, through the fs seam (the real thing, a tiny tmpfs, is in
 * test/integration/outbox-enospc.test.ts). While `full`, writes that need new space fail with ENOSPC; overwriting
 * bytes of a file opened 'r+' does not, as on a real file system whose blocks are already allocated.
 */
function fillableDisk(): { fs: OutboxFs; disk: { full: boolean } } {
  const disk = { full: false };
  const inPlace = new Set<number>();
  const seam: OutboxFs = {
    ...fs,
    openSync: ((p: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
      const fd = fs.openSync(p, flags ?? 'r', mode);
      if (flags === 'r+') inPlace.add(fd);
      else inPlace.delete(fd);
      return fd;
    }) as typeof fs.openSync,
    writeSync: ((fd: number, ...rest: unknown[]) => {
      if (disk.full && !inPlace.has(fd)) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      return (fs.writeSync as (fd: number, ...a: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync,
  };
  return { fs: seam, disk };
}

interface LogLine {
  level: number;
  msg: string;
  lost?: number;
  queued?: number;
}
function capture(): { log: Logger; warnings: () => LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, warnings: () => lines.filter((l) => l.level === 40) };
}

const msg = (n: number): OutboxMessage => ({ topic: 'cams/full/detections', payload: Buffer.from(JSON.stringify({ n })), qos: 1, retain: false });
const ns = (o: Outbox): number[] => [...o.unacked()].map((u) => (JSON.parse(u.msg.payload.toString()) as { n: number }).n);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-full-'));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}
async function open(dir: string, log: Logger = capture().log, seam?: OutboxFs): Promise<Outbox> {
  const o = await Outbox.open({ dir, maxMessages: 1000, maxBytes: 1 << 20, ackFlushMs: 10, diskRetryMs: 10, ...(seam ? { fs: seam } : {}) }, log);
  cleanups.push(() => o.close());
  return o;
}
/** Pushes n..to-1 and returns their ids by n. */
function pushRange(o: Outbox, from: number, to: number, ids: Map<number, number>): void {
  for (const n of range(from, to)) ids.set(n, o.push(msg(n)));
}

describe('Outbox on a disk that fills up', () => {
  it('holds new detections in memory while the disk is full, moves them to the disk when space is back, and a restart replays each unacked one once', async () => {
    const dir = tmpDir();
    const { fs: seam, disk } = fillableDisk();
    const { log, warnings } = capture();
    const o = await open(dir, log, seam);
    const ids = new Map<number, number>();
    pushRange(o, 0, 10, ids);
    disk.full = true;
    pushRange(o, 10, 20, ids);
    expect(o.stats()).toMatchObject({ mode: 'memory', depth: 20, memoryOnly: 10 });
    expect(warnings()).toHaveLength(1);
    for (const n of [0, 1, 2, 3, 4, 10, 11, 12]) o.ack(ids.get(n)!);
    expect(o.stats()).toMatchObject({ depth: 12, memoryOnly: 7 });

    disk.full = false;
    await until(() => o.stats().mode === 'disk', 10_000, 'the outbox back on its disk');
    expect(o.stats()).toMatchObject({ depth: 12, memoryOnly: 0, lost: 0 });
    pushRange(o, 20, 22, ids);
    await o.close();
    expect(warnings()).toHaveLength(1);

    const again = await open(dir);
    expect(ns(again)).toEqual([...range(5, 10), ...range(13, 22)]);
  });

  it('a disk that stays full: what was acked meanwhile is not replayed, and what only memory held is counted lost at stop', async () => {
    const dir = tmpDir();
    const { fs: seam, disk } = fillableDisk();
    const { log, warnings } = capture();
    const o = await open(dir, log, seam);
    const ids = new Map<number, number>();
    pushRange(o, 0, 10, ids);
    o.ack(ids.get(0)!);
    await until(() => fs.existsSync(path.join(dir, 'acks.json')), 10_000, 'the first ack file');
    disk.full = true;
    pushRange(o, 10, 20, ids);
    for (const n of [1, 2, 3, 4, 10, 11, 12, 13, 14]) o.ack(ids.get(n)!);
    expect(o.stats()).toMatchObject({ mode: 'memory', depth: 10, memoryOnly: 5, lost: 0 });
    await o.close();
    expect(o.stats()).toMatchObject({ lost: 5 });
    const stop = warnings().filter((w) => w.lost !== undefined);
    expect(stop).toHaveLength(1);
    expect(stop[0]).toMatchObject({ lost: 5 });
    expect(stop[0]!.msg).toMatch(/5 detections .*lost/);

    disk.full = false;
    const again = await open(dir);
    // 5-9 were on disk and never acked; 1-4 were acked while the disk was full and must not come back.
    expect(ns(again)).toEqual(range(5, 10));
  });

  it('with no state directory, the detections still queued at stop are counted lost, with one warning', async () => {
    const { log, warnings } = capture();
    const o = await Outbox.open({ dir: null, maxMessages: 10, maxBytes: 1 << 20 }, log);
    for (const n of range(0, 3)) o.push(msg(n));
    expect(o.stats()).toMatchObject({ mode: 'memory', memoryOnly: 3 });
    await o.close();
    expect(o.stats().lost).toBe(3);
    expect(warnings().filter((w) => w.lost !== undefined)).toMatchObject([{ lost: 3 }]);
  });
});
