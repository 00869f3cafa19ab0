import { readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { endGroup, spawnInGroup } from '../../src/camera/process-group.js';

/*
 * A camera program's stdout is read through an anonymous FIFO into one reused buffer (process-group.ts): no buffer is
 * allocated per read, every byte arrives in order, and `closed` comes only after the last one. Where no FIFO can be
 * made, Node's own pipe does the same job.
 */

/** 3 MB of a pattern that shows any lost, doubled or reordered byte, then exit 3. */
const TOTAL = 3 * 1024 * 1024;
const WRITER = `let i = 0; const b = Buffer.alloc(${TOTAL}); for (; i < b.length; i++) b[i] = (i * 7 + (i >> 16)) & 255; require('fs').writeSync(1, b); process.exit(3);`;
const expected = (): Buffer => {
  const b = Buffer.alloc(TOTAL);
  for (let i = 0; i < b.length; i++) b[i] = (i * 7 + (i >> 16)) & 255;
  return b;
};

const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

async function runWriter(): Promise<{ bytes: Buffer; buffers: Set<ArrayBufferLike>; stdoutLink: string }> {
  const parts: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  // The child writes after a pause, so that its stdout can be looked at first.
  const { child, output } = spawnInGroup(process.execPath, ['-e', `setTimeout(() => { ${WRITER} }, 300)`], undefined, 'writer', {
    data: (chunk) => {
      buffers.add(chunk.buffer);
      parts.push(Buffer.from(chunk)); // a copy: the chunk's memory is reused by the next read
    },
  });
  const stdoutLink = readlinkSync(`/proc/${child.pid}/fd/1`);
  await output.closed;
  await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  endGroup(child);
  return { bytes: Buffer.concat(parts), buffers, stdoutLink };
}

describe('a camera program output', () => {
  it('is read through an anonymous FIFO into one reused buffer: every byte, in order, before closed resolves', async () => {
    const r = await runWriter();
    expect(r.stdoutLink).toMatch(/mobilenet-edge-.*\/out \(deleted\)$/); // a FIFO, already unlinked: nothing left on disk
    expect(r.bytes.length).toBe(TOTAL);
    expect(r.bytes.equals(expected())).toBe(true);
    expect(r.buffers.size).toBe(1); // 48 reads or more, one buffer
  });

  it('falls back to Node pipe when no FIFO can be made (no mkfifo on PATH), with the same bytes', async () => {
    process.env.PATH = '/nonexistent';
    const r = await runWriter();
    expect(r.stdoutLink).toMatch(/^pipe:|^socket:/);
    expect(r.bytes.equals(expected())).toBe(true);
    expect(r.buffers.size).toBeGreaterThan(1); // a new buffer per read: what the FIFO saves
  });

  it('reads in place where the sink says: the bytes land in its memory, in order, with no chunk handed over', async () => {
    const memory = Buffer.alloc(TOTAL + 10, 0xee);
    let filled = 0;
    let windows = 0;
    let chunks = 0;
    const { child, output } = spawnInGroup(process.execPath, ['-e', WRITER], undefined, 'writer', {
      data: () => chunks++,
      into: () => {
        windows++;
        return memory.subarray(filled, Math.min(memory.length, filled + 100_000)); // windows smaller than the pipe's reads too
      },
      wrote: (bytes) => (filled += bytes),
    });
    await output.closed;
    endGroup(child);
    expect(chunks).toBe(0);
    expect(filled).toBe(TOTAL);
    expect(memory.subarray(0, TOTAL).equals(expected())).toBe(true);
    expect(memory.subarray(TOTAL).every((b) => b === 0xee)).toBe(true); // nothing written past what was read
    expect(windows).toBeGreaterThan(TOTAL / 100_000);
  });
});
