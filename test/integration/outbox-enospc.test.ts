import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/publish/outbox.js';
import { createLogger, silentLogger } from '../../src/system/logger.js';

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
    for (let n = 0; n < 200; n++) outbox.push({ topic: 'cams/x/detections', payload: payload(n), qos: 1, retain: false });

    expect(outbox.stats().mode).toBe('memory');
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.dir).toBe(dir);
    expect(warnings[0]!.err).toMatch(/ENOSPC|short write/);
    const all = [...outbox.unacked()].map((u) => u.msg.payload);
    expect(all).toHaveLength(200);
    all.forEach((p, n) => expect(p.equals(payload(n))).toBe(true));
    await outbox.close();

    // What made it to the full disk comes back as a clean prefix (the cut-off record is truncated, not replayed).
    const again = await Outbox.open({ dir, maxMessages: 10_000, maxBytes: 16 << 20 }, silentLogger());
    const back = [...again.unacked()].map((u) => u.msg.payload);
    expect(back.length).toBeGreaterThan(10);
    expect(back.length).toBeLessThan(64);
    back.forEach((p, n) => expect(p.equals(payload(n))).toBe(true));
    await again.close();
  });
});
