import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/publish/outbox.js';
import { silentLogger } from '../../src/system/logger.js';
import { ROOT } from '../helpers/paths.js';

/*
 * A real process pushes messages as fast as it can, acks the first 100, and is SIGKILLed mid-stream: everything it had
 * reported as pushed must come back from the disk, in order, with nothing that was not pushed.
 */
const CHILD = `
import { Outbox } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/publish/outbox.ts')).href)};
import { silentLogger } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/system/logger.ts')).href)};
const outbox = await Outbox.open({ dir: process.argv[2], maxMessages: 1_000_000, maxBytes: 1 << 30, ackFlushMs: 10 }, silentLogger());
const msg = (n) => ({ topic: 'cams/' + (n % 4) + '/detections', payload: Buffer.from(JSON.stringify({ n, pad: 'x'.repeat(n % 97) })), qos: 1, retain: n % 5 === 0 });
const ids = [];
for (let n = 0; n < 200; n++) ids.push(outbox.push(msg(n)));
for (const id of ids.slice(0, 100)) outbox.ack(id);
await new Promise((r) => setTimeout(r, 100)); // past ackFlushMs: the acks are on disk
process.stdout.write('acked\\n');
let n = 200;
for (;;) {
  for (let i = 0; i < 50; i++, n++) outbox.push(msg(n));
  // Pipes are synchronous on Linux: once this line is out, those pushes have returned.
  process.stdout.write('pushed ' + n + '\\n');
  await new Promise((r) => setImmediate(r));
}
`;

const WRITER_MS = 60_000;

describe('Outbox survives SIGKILL', () => {
  const cleanup: string[] = [];
  afterEach(() => {
    for (const d of cleanup.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('a SIGKILLed writer leaves every reported message on disk, in order, without garbage; acks flushed before the kill hold', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-kill-'));
    cleanup.push(work);
    const script = path.join(work, 'writer.mts');
    fs.writeFileSync(script, CHILD);
    const dir = path.join(work, 'state');

    const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let reported = 0;
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      // Bounds only a writer that never gets there: it starts from source (2-5 s on a loaded machine), then writes.
      const timer = setTimeout(() => reject(new Error(`writer did not get going: ${out.slice(-200)} ${err}`)), WRITER_MS);
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const last = /pushed (\d+)\n(?![\s\S]*pushed)/.exec(out);
        if (last) reported = Number(last[1]);
        // Kill while it is writing flat out, well past the first segment.
        if (reported >= 20_000) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`writer exited early: ${err}`)));
    });
    expect(await exited).toBe('SIGKILL');
    expect(out).toMatch(/^acked\n/);

    const outbox = await Outbox.open({ dir, maxMessages: 1_000_000, maxBytes: 1 << 30 }, silentLogger());
    try {
      const back = [...outbox.unacked()];
      const ns = back.map((u) => (JSON.parse(u.msg.payload.toString()) as { n: number }).n);
      // Acked 0-99 before the kill; 100 onwards, contiguous, at least up to what was reported.
      expect(ns[0]).toBe(100);
      expect(ns.length).toBeGreaterThanOrEqual(reported - 100);
      ns.forEach((n, i) => expect(n).toBe(100 + i));
      for (const { msg } of back.slice(0, 500).concat(back.slice(-500))) {
        const { n, pad } = JSON.parse(msg.payload.toString()) as { n: number; pad: string };
        expect(msg.topic).toBe(`cams/${n % 4}/detections`);
        expect(pad).toBe('x'.repeat(n % 97));
        expect(msg.retain).toBe(n % 5 === 0);
        expect(msg.qos).toBe(1);
      }
      expect(outbox.stats()).toMatchObject({ mode: 'disk', replayed: ns.length, dropped: 0 });
    } finally {
      await outbox.close();
    }
  }, WRITER_MS + 30_000);
});
