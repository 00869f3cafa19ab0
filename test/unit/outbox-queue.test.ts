import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxFs, type OutboxMessage, type OutboxOptions } from '../../src/publish/outbox.js';
import { createLogger, type Logger } from '../../src/system/logger.js';

interface LogLine {
  level: number;
  msg: string;
  dir?: string;
  err?: string;
  file?: string;
  lost?: number;
}
const WARN = 40;

function capture(): { log: Logger; lines: LogLine[]; warnings: () => LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger('debug', { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines, warnings: () => lines.filter((l) => l.level === WARN) };
}

const msg = (n: number, payloadBytes = 0): OutboxMessage => ({
  topic: `mobilenet-edge/test/detections/${n % 3}`,
  payload: Buffer.concat([Buffer.from(`{"n":${n}}`), Buffer.alloc(payloadBytes, 0x61)]),
  qos: 1,
  retain: n % 2 === 0,
});
const nOf = (m: OutboxMessage): number => JSON.parse(m.payload.toString().replace(/a*$/, '')).n as number;

const dirs: string[] = [];
const outboxes: Outbox[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-'));
  dirs.push(d);
  return d;
}
async function open(opts: Partial<OutboxOptions> & { dir: string | null }, log: Logger = capture().log): Promise<Outbox> {
  const o = await Outbox.open({ maxMessages: 1000, maxBytes: 1 << 20, ...opts }, log);
  outboxes.push(o);
  return o;
}
const segments = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.startsWith('seg-')).sort();
const diskBytes = (dir: string): number => segments(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
const ids = (o: Outbox): number[] => [...o.unacked()].map((u) => u.id);
const ns = (o: Outbox): number[] => [...o.unacked()].map((u) => nOf(u.msg));

afterEach(async () => {
  for (const o of outboxes.splice(0)) await o.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('Outbox in memory', () => {
  it('says once that it has no state directory, keeps push order and takes acks in any order', async () => {
    const { log, warnings } = capture();
    const o = await open({ dir: null }, log);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]!.msg).toMatch(/no state directory.*lost if the daemon restarts/);
    const pushed = Array.from({ length: 6 }, (_, i) => o.push(msg(i)));
    expect(pushed).toEqual([...pushed].sort((a, b) => a - b));
    expect(new Set(pushed).size).toBe(6);
    o.ack(pushed[3]!);
    o.ack(pushed[0]!);
    o.ack(pushed[3]!); // a duplicate PUBACK changes nothing
    expect(ns(o)).toEqual([1, 2, 4, 5]);
    expect(o.stats()).toMatchObject({ mode: 'memory', depth: 4, dropped: 0, replayed: 0 });
    expect(o.stats().bytes).toBe([1, 2, 4, 5].reduce((s, n) => s + Buffer.byteLength(msg(n).topic) + msg(n).payload.length, 0));
    expect(warnings()).toHaveLength(1);
  });

  it('unacked() is a snapshot of the ids: pushes during a replay are not replayed twice, acks are honoured', async () => {
    const o = await open({ dir: null });
    for (let i = 0; i < 4; i++) o.push(msg(i));
    const seen: number[] = [];
    for (const { id, msg: m } of o.unacked()) {
      seen.push(nOf(m));
      o.push(msg(100 + id));
      if (id === 1) o.ack(3);
    }
    expect(seen).toEqual([0, 1, 3]);
    expect(ns(o)).toEqual([0, 1, 3, 101, 102, 104]);
    const later = o.unacked();
    o.push(msg(200));
    expect([...later].map((u) => nOf(u.msg))).toEqual([0, 1, 3, 101, 102, 104]);
  });

  it('drops the oldest past maxMessages and past maxBytes, counts them, and warns once per minute, not per drop', async () => {
    const { log, warnings } = capture();
    const o = await open({ dir: null, maxMessages: 5 }, log);
    for (let i = 0; i < 12; i++) o.push(msg(i));
    expect(ns(o)).toEqual([7, 8, 9, 10, 11]);
    expect(o.stats()).toMatchObject({ depth: 5, dropped: 7 });
    expect(warnings().filter((w) => /outbox full/.test(w.msg))).toHaveLength(1);

    const size = Buffer.byteLength(msg(0).topic) + msg(0, 100).payload.length;
    const small = await open({ dir: null, maxBytes: size * 3 + 5 }, log);
    for (let i = 0; i < 10; i++) small.push(msg(i, 100 + (i % 2))); // sizes differ by a byte: only 3 fit
    expect(ns(small)).toEqual([7, 8, 9]);
    expect(small.stats().bytes).toBeLessThanOrEqual(size * 3 + 5);
    expect(small.stats().dropped).toBe(7);
  });

  it('replaying while acking each message (the queue compacts under the iterator) still visits every one once, in order', async () => {
    const o = await open({ dir: null, maxMessages: 10_000 });
    const pushed = Array.from({ length: 5000 }, (_, i) => o.push(msg(i)));
    const seen: number[] = [];
    for (const { id } of o.unacked()) {
      seen.push(id);
      o.ack(id);
    }
    expect(seen).toEqual(pushed);
    expect(o.stats().depth).toBe(0);
  });

  it('one message that is never acked does not make memory grow while a million others come and go', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const o = await open({ dir: null, maxMessages: 1000 });
    o.push(msg(0));
    const m = msg(1);
    for (let i = 0; i < 10_000; i++) o.ack(o.push(m));
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) o.ack(o.push(m));
    gc();
    // Keeping every id would take 8 MB or more.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(2 << 20);
    expect(ns(o)).toEqual([0]);
  });

  it('refuses a message larger than maxBytes with a warning naming it and the key, counts it, and keeps the queue as it is', async () => {
    const { log, warnings } = capture();
    const o = await open({ dir: null, maxBytes: 500 }, log);
    o.push(msg(1));
    const id = o.push(msg(2, 1000));
    expect(id).toBe(2);
    expect(ns(o)).toEqual([1]);
    expect(o.stats()).toMatchObject({ dropped: 1, refused: 1 });
    const refused = warnings().filter((w) => /maxBytes/.test(w.msg));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ topic: msg(2).topic, bytes: Buffer.byteLength(msg(2).topic) + msg(2, 1000).payload.length, maxBytes: 500 });
    expect(refused[0]!.msg).toMatch(/larger than mqtt\.outbox\.maxBytes.*not queued/);
  });

  it('refuses nonsense limits and pushes after close', async () => {
    await expect(Outbox.open({ dir: null, maxMessages: 0, maxBytes: 10 }, capture().log)).rejects.toThrow(/maxMessages/);
    const o = await open({ dir: null });
    await o.close();
    expect(() => o.push(msg(1))).toThrow(/closed/);
  });
});

describe('Outbox on disk', () => {
  it('a restart replays exactly the unacked messages, in push order, and new ids continue above the old ones', async () => {
    const dir = tmpDir();
    const { log, warnings } = capture();
    const a = await open({ dir }, log);
    const pushed = Array.from({ length: 10 }, (_, i) => a.push(msg(i, i * 10)));
    for (const i of [7, 2, 5, 0]) a.ack(pushed[i]!);
    expect(a.stats().mode).toBe('disk');
    await a.close();
    expect(warnings()).toEqual([]);

    const b = await open({ dir }, log);
    expect(ns(b)).toEqual([1, 3, 4, 6, 8, 9]);
    expect([...b.unacked()].map((u) => u.msg)).toEqual([1, 3, 4, 6, 8, 9].map((i) => msg(i, i * 10)));
    expect(ids(b)).toEqual([1, 3, 4, 6, 8, 9].map((i) => pushed[i]));
    expect(b.stats()).toMatchObject({ mode: 'disk', depth: 6, replayed: 6, dropped: 0 });
    const next = b.push(msg(10));
    expect(next).toBeGreaterThan(pushed[9]!);
    for (const id of ids(b)) b.ack(id);
    await b.close();

    const c = await open({ dir }, log);
    expect(ids(c)).toEqual([]);
    expect(c.stats().replayed).toBe(0);
    expect(c.push(msg(11))).toBeGreaterThan(next);
    // Fully acked segments are deleted, not kept forever.
    expect(segments(dir).length).toBeLessThanOrEqual(1);
  });

  it('acks younger than ackFlushMs are lost by a crash (the message is re-sent: at-least-once), older ones are kept', async () => {
    const dir = tmpDir();
    const a = await open({ dir, ackFlushMs: 20 });
    const pushed = [0, 1, 2, 3].map((i) => a.push(msg(i)));
    a.ack(pushed[0]!);
    await new Promise((r) => setTimeout(r, 80));
    a.ack(pushed[1]!);
    // A copy of the directory now is what a crash would leave behind (the ack of 1 is not on disk yet).
    const crashed = tmpDir();
    fs.cpSync(dir, crashed, { recursive: true });
    fs.rmSync(path.join(crashed, 'outbox.lock'));
    const b = await open({ dir: crashed });
    expect(ns(b)).toEqual([1, 2, 3]);
  });

  it('detects a torn last record, truncates it with one warning and replays the whole ones before it', async () => {
    const dir = tmpDir();
    const a = await open({ dir });
    for (let i = 0; i < 5; i++) a.push(msg(i, 50));
    await a.close();
    const [seg] = segments(dir);
    const file = path.join(dir, seg!);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 3);

    const { log, warnings } = capture();
    const b = await open({ dir }, log);
    expect(ns(b)).toEqual([0, 1, 2, 3]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ file: seg, lost: 1 });
    expect(warnings()[0]!.msg).toMatch(/incomplete record/);
    b.push(msg(5));
    await b.close();
    const c = await open({ dir }, log);
    expect(ns(c)).toEqual([0, 1, 2, 3, 5]);
    expect(warnings()).toHaveLength(1);
  });

  it('one damaged stretch costs only the records in it (N = 1000): a flipped byte, zeros in the middle, a cut tail', async () => {
    const N = 1000;
    // Record i (id i + 1) spans [starts[i], starts[i + 1]) in the one segment.
    const starts = [0];
    for (let i = 0; i < N; i++) starts.push(starts[i]! + 17 + Buffer.byteLength(msg(i).topic) + msg(i, 20).payload.length);
    const middle = Math.floor(starts[N]! / 2);
    const damages: [string, (file: string) => void, [number, number]][] = [
      ['flipped byte', (file) => {
        const buf = fs.readFileSync(file);
        buf[middle]! ^= 0xff;
        fs.writeFileSync(file, buf);
      }, [middle, middle + 1]],
      ['4 KiB of zeros', (file) => {
        const fd = fs.openSync(file, 'r+');
        fs.writeSync(fd, Buffer.alloc(4096), 0, 4096, middle);
        fs.closeSync(fd);
      }, [middle, middle + 4096]],
      ['tail cut mid-record', (file) => fs.truncateSync(file, starts[N]! - 10), [starts[N]! - 10, starts[N]!]],
    ];
    const figures: Record<string, number> = {};
    for (const [name, damage, [from, to]] of damages) {
      const dir = tmpDir();
      const a = await open({ dir, segmentBytes: 1 << 20 });
      for (let i = 0; i < N; i++) a.push(msg(i, 20));
      await a.close();
      expect(segments(dir)).toHaveLength(1);
      const seg = segments(dir)[0]!;
      damage(path.join(dir, seg));
      const hit = (i: number): boolean => starts[i]! < to && starts[i + 1]! > from;
      const expected = Array.from({ length: N }, (_, i) => i).filter((i) => !hit(i));

      const { log, warnings } = capture();
      const b = await open({ dir, segmentBytes: 1 << 20 }, log);
      expect(ns(b), name).toEqual(expected);
      figures[name] = b.stats().replayed;
      expect(warnings(), name).toHaveLength(1);
      expect(warnings()[0], name).toMatchObject({ dir, file: seg, lost: N - expected.length });
      expect(b.stats().lost, name).toBe(N - expected.length);
      await b.close();
      // Reported once: the damaged segment was rewritten without the damage.
      const c = await open({ dir, segmentBytes: 1 << 20 }, log);
      expect(ns(c), name).toEqual(expected);
      expect(warnings(), name).toHaveLength(1);
    }
    console.log(`outbox damage figures (of ${N} records replayed): ${JSON.stringify(figures)}`);
  });

  it('garbage appended after the last record (a power cut on ext4 can leave zeros) is never replayed', async () => {
    const dir = tmpDir();
    const a = await open({ dir });
    a.push(msg(0));
    await a.close();
    fs.appendFileSync(path.join(dir, segments(dir)[0]!), Buffer.alloc(512));
    const b = await open({ dir });
    expect(ns(b)).toEqual([0]);
  });

  it('an unreadable ack file means replaying everything stored (duplicates, never losses), with a warning', async () => {
    const dir = tmpDir();
    const a = await open({ dir });
    const pushed = [0, 1, 2].map((i) => a.push(msg(i)));
    a.ack(pushed[0]!);
    await a.close();
    fs.writeFileSync(path.join(dir, 'acks.json'), '{"v":1,"hi');
    const { log, warnings } = capture();
    const b = await open({ dir }, log);
    expect(warnings()[0]!.msg).toMatch(/unreadable acks.json/);
    expect(ns(b)).toContain(1);
    expect(ns(b)).toContain(2);
    expect(b.push(msg(3))).toBeGreaterThan(pushed[2]!);
  });

  it('a restart with lower limits keeps the newest and counts the rest as dropped', async () => {
    const dir = tmpDir();
    const a = await open({ dir });
    for (let i = 0; i < 10; i++) a.push(msg(i));
    await a.close();
    const b = await open({ dir, maxMessages: 4 });
    expect(ns(b)).toEqual([6, 7, 8, 9]);
    expect(b.stats()).toMatchObject({ dropped: 6, replayed: 4 });
    await b.close();
    const c = await open({ dir, maxMessages: 4 });
    expect(ns(c)).toEqual([6, 7, 8, 9]);
  });

  it('an unwritable state directory (even for root: a path below a regular file) means memory mode and one warning naming it', async () => {
    const base = tmpDir();
    const file = path.join(base, 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const dir = path.join(file, 'outbox');
    const { log, warnings } = capture();
    const o = await open({ dir }, log);
    expect(o.stats().mode).toBe('memory');
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ dir });
    expect(warnings()[0]!.err).toMatch(/ENOTDIR/);
    o.push(msg(1));
    expect(ns(o)).toEqual([1]);
  });

  it('a directory held by another live process, or already open here, is not shared; a dead owner\'s lock is taken over', async () => {
    const dir = tmpDir();
    const first = await open({ dir });
    const { log, warnings } = capture();
    const second = await open({ dir }, log);
    expect(second.stats().mode).toBe('memory');
    expect(warnings()[0]!.err).toMatch(/already open in this process/);
    await first.close();

    fs.writeFileSync(path.join(dir, 'outbox.lock'), '1\n'); // pid 1 is alive and is not us
    const third = await open({ dir }, log);
    expect(third.stats().mode).toBe('memory');
    expect(warnings()[1]!.err).toMatch(/in use by process 1/);

    fs.writeFileSync(path.join(dir, 'outbox.lock'), '999999999\n');
    const fourth = await open({ dir });
    expect(fourth.stats().mode).toBe('disk');
  });

  it('a write that fails at run time (EIO, short write) holds new messages in memory with one warning, loses nothing queued, and writes them once the disk takes writes again', async () => {
    for (const failure of ['EIO', 'short'] as const) {
      const dir = tmpDir();
      let writes = 0;
      const segmentFds = new Set<number>();
      const failing: OutboxFs = {
        ...fs,
        openSync: ((p: fs.PathLike, ...rest: never[]) => {
          const fd = (fs.openSync as (...a: unknown[]) => number)(p, ...rest);
          if (path.basename(String(p)).startsWith('seg-')) segmentFds.add(fd);
          else segmentFds.delete(fd);
          return fd;
        }) as typeof fs.openSync,
        writeSync: ((fd: number, data: Buffer | string, ...rest: never[]) => {
          // The sixth record written to a segment fails.
          if (segmentFds.has(fd) && Buffer.isBuffer(data) && ++writes === 6) {
            if (failure === 'EIO') throw Object.assign(new Error('i/o error'), { code: 'EIO' });
            return (fs.writeSync as (fd: number, b: Buffer, o: number, l: number) => number)(fd, data, 0, 5);
          }
          return (fs.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
        }) as typeof fs.writeSync,
      };
      const { log, warnings } = capture();
      const o = await open({ dir, fs: failing }, log);
      for (let i = 0; i < 10; i++) o.push(msg(i));
      expect(o.stats().mode).toBe('memory');
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatchObject({ dir: path.resolve(dir) });
      expect(warnings()[0]!.err).toMatch(failure === 'EIO' ? /EIO: i\/o error/ : /short write: 5 of/);
      expect(ns(o)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      o.ack(ids(o)[1]!);
      expect(ns(o)).toEqual([0, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(o.stats().memoryOnly).toBe(5);
      // The disk works again by the time the outbox closes: what memory held goes to it, whole records only, and the
      // ack of 1 holds.
      await o.close();
      expect(o.stats().lost).toBe(0);
      const again = await open({ dir });
      expect(ns(again)).toEqual([0, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  it('with fsyncMs, fdatasync runs in the background and close() waits for it', async () => {
    const dir = tmpDir();
    let syncs = 0;
    const counting: OutboxFs = {
      ...fs,
      fdatasync: ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
        syncs++;
        fs.fdatasync(fd, cb);
      }) as typeof fs.fdatasync,
    };
    const o = await open({ dir, fs: counting, fsyncMs: 10 });
    o.push(msg(1));
    await new Promise((r) => setTimeout(r, 60));
    expect(syncs).toBe(1); // dirty once: one sync, not one per tick
    o.push(msg(2));
    await new Promise((r) => setTimeout(r, 60));
    expect(syncs).toBe(2);
    await o.close();
  });

  it('stays bounded over 100k pushes with maxMessages 1000: memory, disk and the queue', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const dir = tmpDir();
    const { log, warnings } = capture();
    const segmentBytes = 64 << 10;
    const o = await open({ dir, maxMessages: 1000, maxBytes: 64 << 20, segmentBytes }, log);
    const payload = 256;
    for (let i = 0; i < 1000; i++) o.push(msg(i, payload));
    gc();
    const heapAt1k = process.memoryUsage().heapUsed;
    for (let i = 1000; i < 100_000; i++) {
      o.push(msg(i, payload));
      // A slow broker: a few acks, out of order.
      if (i % 1000 === 0) o.ack([...o.unacked()][10]!.id);
    }
    gc();
    const growth = process.memoryUsage().heapUsed - heapAt1k;
    // 99k more messages of ~300 bytes pass through (~30 MB): only the newest 1000 may stay.
    expect(growth).toBeLessThan(8 << 20);
    expect(o.stats().depth).toBe(1000);
    expect(o.stats().dropped).toBe(100_000 - 1000 - 99);
    const kept = ns(o);
    expect(kept[kept.length - 1]).toBe(99_999);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    const recordBytes = 17 + Buffer.byteLength(msg(0).topic) + msg(99_999, payload).payload.length;
    // The live records plus settled ones in the oldest and newest segments: dropped segments are deleted.
    expect(diskBytes(dir)).toBeGreaterThanOrEqual(1000 * recordBytes);
    expect(diskBytes(dir)).toBeLessThan(1000 * recordBytes + 2 * segmentBytes);
    expect(warnings().filter((w) => /outbox full/.test(w.msg))).toHaveLength(1);
    await o.close();
    const again = await open({ dir, maxMessages: 1000, maxBytes: 64 << 20 });
    expect(ns(again)).toEqual(kept);
  });

  it('one old unacked message does not pin every segment written after it: the live ones are rewritten', async () => {
    const dir = tmpDir();
    const o = await open({ dir, segmentBytes: 4096, maxMessages: 100_000, maxBytes: 64 << 20 });
    const first = o.push(msg(0, 100));
    for (let i = 1; i < 5000; i++) o.ack(o.push(msg(i, 100)));
    // 5000 records of ~150 bytes were written; only one is live.
    expect(diskBytes(dir)).toBeLessThan(4 * 4096);
    expect(ids(o)).toEqual([first]);
    await o.close();
    const again = await open({ dir });
    expect(ns(again)).toEqual([0]);
  });
});
