import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox, type OutboxMessage, type OutboxOptions } from '../../src/publish/outbox.js';
import { silentLogger } from '../../src/system/logger.js';
import { sleep, until } from '../helpers/wait.js';

const msg = (n: number): OutboxMessage => ({ topic: `mobilenet-edge/test/cam/detections`, payload: Buffer.from(`{"n":${n}}`), qos: 1, retain: false });
const nOf = (m: OutboxMessage): number => JSON.parse(m.payload.toString()).n as number;

const dirs: string[] = [];
const outboxes: Outbox[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-deferred-'));
  dirs.push(d);
  return d;
}
async function open(dir: string, opts: Partial<OutboxOptions> = {}): Promise<Outbox> {
  const o = await Outbox.open({ dir, maxMessages: 1000, maxBytes: 1 << 20, ...opts }, silentLogger());
  outboxes.push(o);
  return o;
}
const diskBytes = (dir: string): number =>
  fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('seg-'))
    .reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
/** What a restart would send again: close (as a stop does), reopen, read. */
async function afterRestart(o: Outbox, dir: string): Promise<number[]> {
  await o.close();
  const again = await open(dir);
  return [...again.unacked()].map((u) => nOf(u.msg));
}

afterEach(async () => {
  for (const o of outboxes.splice(0)) await o.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('outbox with persistAfterMs: detections in flight to a connected broker', () => {
  it('never writes what the broker acknowledges in time: the disk sees nothing, the ack file included', async () => {
    const dir = tmpDir();
    const o = await open(dir, { persistAfterMs: 60_000, ackFlushMs: 10 });
    const acks = path.join(dir, 'acks.json');
    await sleep(50); // the flush that open() schedules
    const acksBefore = fs.statSync(acks);
    for (let n = 0; n < 100; n++) o.ack(o.push(msg(n), true));
    await sleep(100); // ten ack flush periods
    expect(diskBytes(dir)).toBe(0);
    const acksAfter = fs.statSync(acks);
    expect([acksAfter.ino, acksAfter.mtimeMs]).toEqual([acksBefore.ino, acksBefore.mtimeMs]); // not rewritten (rename)
    expect(o.stats()).toMatchObject({ depth: 0, deferred: 0, memoryOnly: 0 });
    expect(await afterRestart(o, dir)).toEqual([]);
  });

  it('writes what is still unacknowledged after persistAfterMs, in order, and keeps it across a restart', async () => {
    const dir = tmpDir();
    const o = await open(dir, { persistAfterMs: 30 });
    const ids = [0, 1, 2, 3].map((n) => o.push(msg(n), true));
    o.ack(ids[1]!);
    expect(o.stats()).toMatchObject({ depth: 3, deferred: 3, memoryOnly: 0 });
    expect(diskBytes(dir)).toBe(0);
    await until(() => o.stats().deferred === 0, 10_000, 'the unacknowledged ones written');
    expect(diskBytes(dir)).toBeGreaterThan(0);
    expect(o.stats()).toMatchObject({ depth: 3, memoryOnly: 0 });
    expect(await afterRestart(o, dir)).toEqual([0, 2, 3]);
  });

  it('writes everything in flight when the connection drops (persistDeferred), and on close', async () => {
    const dir = tmpDir();
    const o = await open(dir, { persistAfterMs: 60_000 });
    for (let n = 0; n < 5; n++) o.push(msg(n), true);
    o.persistDeferred(); // the publisher's 'close'
    expect(o.stats()).toMatchObject({ depth: 5, deferred: 0, memoryOnly: 0 });
    const written = diskBytes(dir);
    expect(written).toBeGreaterThan(0);
    for (let n = 5; n < 8; n++) o.push(msg(n), true);
    expect(diskBytes(dir)).toBe(written);
    expect(await afterRestart(o, dir)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // close wrote the last three
  });

  it('a message pushed while disconnected goes to disk at once, after the older ones still in flight (ids stay in order)', async () => {
    const dir = tmpDir();
    const o = await open(dir, { persistAfterMs: 60_000 });
    o.push(msg(0), true);
    o.push(msg(1), true);
    o.push(msg(2), false);
    expect(o.stats()).toMatchObject({ depth: 3, deferred: 0, memoryOnly: 0 });
    expect(await afterRestart(o, dir)).toEqual([0, 1, 2]);
  });

  it('drops a deferred message like any other when the outbox is full, and never writes it', async () => {
    const dir = tmpDir();
    const o = await open(dir, { persistAfterMs: 60_000, maxMessages: 3 });
    for (let n = 0; n < 5; n++) o.push(msg(n), true);
    expect(o.stats()).toMatchObject({ depth: 3, deferred: 3, dropped: 2 });
    expect(await afterRestart(o, dir)).toEqual([2, 3, 4]);
  });

  it('writes every message at once without persistAfterMs (0), in flight or not', async () => {
    const dir = tmpDir();
    const o = await open(dir);
    o.push(msg(0), true);
    expect(diskBytes(dir)).toBeGreaterThan(0);
    expect(o.stats()).toMatchObject({ deferred: 0, memoryOnly: 0 });
  });
});
