import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbox, type OutboxMessage } from '../../src/publish/outbox.js';
import { createLogger, silentLogger } from '../../src/system/logger.js';
import { until } from '../helpers/wait.js';

/*
 * A real full disk: a 64 KiB tmpfs. Mounting needs root (CI and these machines run as root); elsewhere the test is
 * skipped with the reason, and the unit tests still cover a failing write through the fs seam.
 */
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-enospc-'));
const mountPoint = path.join(base, 'full');
fs.mkdirSync(mountPoint);
let mountError = '';
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mountPoint], { stdio: 'pipe' });
} catch (err) {
  mountError = `cannot mount a 64 KiB tmpfs (needs root and mount): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
}

describe.skipIf(mountError !== '')(`Outbox on a full disk${mountError ? ` (skipped: ${mountError})` : ''}`, () => {
  beforeAll(() => {
    expect(fs.statfsSync(mountPoint).blocks * fs.statfsSync(mountPoint).bsize).toBeLessThanOrEqual(64 << 10);
  });
  afterAll(() => {
    execFileSync('umount', [mountPoint]);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('ENOSPC switches to memory with one warning naming the directory, keeps every message in order, and the disk holds whole records only', async () => {
    const lines: { level: number; msg: string; dir?: string; err?: string }[] = [];
    const log = createLogger('info', { write: (s: string) => void lines.push(JSON.parse(s) as (typeof lines)[number]) });
    const dir = path.join(mountPoint, 'outbox');
    const outbox = await Outbox.open({ dir, maxMessages: 10_000, maxBytes: 16 << 20 }, log);
    expect(outbox.stats().mode).toBe('disk');
    const payload = (n: number): Buffer => Buffer.concat([Buffer.from(`${n}:`), Buffer.alloc(1000, 0x62)]);
    const ids = Array.from({ length: 200 }, (_, n) => outbox.push({ topic: 'cams/x/detections', payload: payload(n), qos: 1, retain: false }));

    expect(outbox.stats().mode).toBe('memory');
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.dir).toBe(dir);
    expect(warnings[0]!.err).toMatch(/ENOSPC|short write/);
    const all = [...outbox.unacked()].map((u) => u.msg.payload);
    expect(all).toHaveLength(200);
    all.forEach((p, n) => expect(p.equals(payload(n))).toBe(true));
    // Delivered while the disk is full (they were on disk before it filled up): they must not come back.
    for (const id of ids.slice(0, 10)) outbox.ack(id);
    await outbox.close();

    // What made it to the full disk comes back as a clean prefix (the cut-off record is truncated, not replayed);
    // the rest was in memory only, and is counted lost.
    const again = await Outbox.open({ dir, maxMessages: 10_000, maxBytes: 16 << 20 }, silentLogger());
    const back = [...again.unacked()].map((u) => u.msg.payload);
    expect(back.length).toBeGreaterThan(10);
    expect(back.length).toBeLessThan(64);
    back.forEach((p, n) => expect(p.equals(payload(n + 10))).toBe(true));
    expect(outbox.stats().lost).toBe(190 - back.length);
    const stop = lines.filter((l) => (l as { lost?: number }).lost !== undefined);
    expect(stop).toMatchObject([{ level: 40, lost: 190 - back.length }]);
    await again.close();
    fs.rmSync(dir, { recursive: true });
  });

  const small = (n: number): OutboxMessage => ({ topic: 'cams/x/detections', payload: Buffer.from(`${n}:${'c'.repeat(200)}`), qos: 1, retain: false });
  const nOf = (m: OutboxMessage): number => Number(m.payload.toString().split(':')[0]);
  /** Takes every free page of the tmpfs but `leave` bytes; returns the filler file. */
  function fillUp(leave: number): string {
    const filler = path.join(mountPoint, 'filler');
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(4096, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    fs.truncateSync(filler, Math.max(0, fs.statSync(filler).size - leave));
    return filler;
  }

  it('when space comes back, the detections held in memory go to the disk: a restart replays every unacked one, once, in order', async () => {
    const dir = path.join(mountPoint, 'outbox');
    const outbox = await Outbox.open({ dir, maxMessages: 10_000, maxBytes: 16 << 20, diskRetryMs: 20, ackFlushMs: 10 }, silentLogger());
    const filler = fillUp(8 << 10);
    const ids = Array.from({ length: 100 }, (_, n) => outbox.push(small(n)));
    expect(outbox.stats().mode).toBe('memory');
    const held = outbox.stats().memoryOnly;
    expect(held).toBeGreaterThan(50);
    // Acked while the disk is full, on disk and in memory alike: none of them may come back.
    for (const n of [0, 1, 2, 98, 99]) outbox.ack(ids[n]!);
    fs.rmSync(filler);
    await until(() => outbox.stats().mode === 'disk', 10_000, 'the outbox back on its disk');
    expect(outbox.stats()).toMatchObject({ memoryOnly: 0, depth: 95 });
    await outbox.close();
    expect(outbox.stats().lost).toBe(0);

    const again = await Outbox.open({ dir, maxMessages: 10_000, maxBytes: 16 << 20 }, silentLogger());
    expect([...again.unacked()].map((u) => nOf(u.msg))).toEqual(Array.from({ length: 95 }, (_, i) => i + 3));
    await again.close();
    fs.rmSync(dir, { recursive: true });
  });

  it('a disk that is full at the start still gets its queue replayed (the lock needs no free block)', async () => {
    const dir = path.join(mountPoint, 'outbox');
    const first = await Outbox.open({ dir, maxMessages: 10_000, maxBytes: 16 << 20 }, silentLogger());
    for (let n = 0; n < 30; n++) first.push(small(n));
    await first.close();
    const filler = fillUp(0);
    const again = await Outbox.open({ dir, maxMessages: 10_000, maxBytes: 16 << 20 }, silentLogger());
    expect(again.stats()).toMatchObject({ replayed: 30, memoryOnly: 0 });
    expect([...again.unacked()].map((u) => nOf(u.msg))).toEqual(Array.from({ length: 30 }, (_, n) => n));
    await again.close();
    fs.rmSync(filler);
    fs.rmSync(dir, { recursive: true });
  });
});
