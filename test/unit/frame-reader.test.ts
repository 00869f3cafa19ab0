import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFramesOnMainThread, startFrameReader, type FrameRecord } from '../../src/inference/host/frame-reader.js';
import { encodeRequestHeader } from '../../src/inference/host/frames-wire.js';

const dir = mkdtempSync(join(tmpdir(), 'frame-reader-'));
/** Bounds only a failing wait: the reader runs in a worker thread, slow to start on a loaded machine. */
const WAIT_MS = 20_000;
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * A FIFO whose read end is a blocking descriptor, as the host's end of the frames pipe is. Closing the write end
 * (`close`) gives the reader end of file: the worker's blocking read cannot be interrupted otherwise.
 */
function fifo(name: string, readerClosesIt = false): { readFd: number; writeFd: number; close(): void } {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  const opener = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // lets the writer open without waiting
  const writeFd = openSync(path, constants.O_WRONLY);
  const readFd = openSync(path, constants.O_RDONLY); // blocking reads, now that a writer exists
  closeSync(opener);
  let open = true;
  const close = (): void => {
    if (open) closeSync(writeFd);
    open = false;
  };
  cleanups.push(() => {
    close();
    if (!readerClosesIt) closeSync(readFd); // a net.Socket closes its descriptor itself at the end
    rmSync(path);
  });
  return { readFd, writeFd, close };
}

/** Waits for the reader to report the end (it exits by itself then). */
async function ended(ends: string[]): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (ends.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function frame(id: number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 7 + id) % 251));
}

describe('the inference host frame reader', () => {
  it('hands over whole records, in order, from writes cut anywhere, reuses the buffers it gets back, and ends with the pipe', async () => {
    const { readFd, writeFd, close } = fifo('frames');
    const got: { id: number; data: Buffer; bufferBytes: number }[] = [];
    const ends: string[] = [];
    let wake: () => void = () => undefined;
    startFrameReader(readFd, {
      frame(r: FrameRecord) {
        got.push({ id: r.id, data: Buffer.from(r.data), bufferBytes: r.data.buffer.byteLength }); // the buffer goes back after this
        wake();
      },
      end: (reason, closed) => ends.push(`${closed ? "closed" : "failed"}: ${reason}`),
    });

    const sizes = [270_000, 12, 270_000, 0, 270_000, 270_000];
    const wire = Buffer.concat(sizes.flatMap((n, id) => [encodeRequestHeader(id, n), frame(id, n)]));
    // Cut the stream at awkward places: inside a header, inside a frame, across records.
    for (let at = 0, step = 3; at < wire.length; at += step, step = step * 7 + 1) writeSync(writeFd, wire, at, Math.min(step, wire.length - at));

    const deadline = Date.now() + WAIT_MS;
    while (got.length < sizes.length && Date.now() < deadline) await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
    expect(got.map((g) => g.id)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const [i, g] of got.entries()) expect(g.data.equals(frame(i, sizes[i]!)), `frame ${i}`).toBe(true);
    // Buffers handed back are used again: a small frame now arrives in one of the large buffers.
    writeSync(writeFd, Buffer.concat([encodeRequestHeader(6, 10), frame(6, 10)]));
    while (got.length < 7 && Date.now() < deadline) await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
    expect(got[6]!.data.equals(frame(6, 10))).toBe(true);
    expect(got[6]!.bufferBytes).toBe(270_000);
    close();
    await ended(ends);
    expect(ends).toEqual(['closed: frames pipe closed']);
  });
});

describe('the inference host frame reader on the main thread (small frames)', () => {
  it('hands over whole records, in order, from writes cut anywhere, and ends with the pipe', async () => {
    const { readFd, writeFd, close } = fifo('frames-main', true);
    const got: { id: number; data: Buffer }[] = [];
    const ends: string[] = [];
    readFramesOnMainThread(readFd, {
      frame: (r: FrameRecord) => void got.push({ id: r.id, data: Buffer.from(r.data) }), // valid only during the call
      end: (reason, closed) => ends.push(`${closed ? 'closed' : 'failed'}: ${reason}`),
    });
    const sizes = [49_152, 12, 49_152, 0, 49_152, 30_000];
    const wire = Buffer.concat(sizes.flatMap((n, id) => [encodeRequestHeader(id, n), frame(id, n)]));
    // The reader runs on this thread: the writes leave it a turn of the event loop each, and stay under the FIFO's
    // 64 KB, or a blocking write would wait for a reader that cannot run.
    for (let at = 0, step = 3; at < wire.length; at += step, step = Math.min(step * 7 + 1, 16_384)) {
      writeSync(writeFd, wire, at, Math.min(step, wire.length - at));
      await new Promise((r) => setTimeout(r, 1));
    }
    const deadline = Date.now() + WAIT_MS;
    while (got.length < sizes.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(got.map((g) => g.id)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const [i, g] of got.entries()) expect(g.data.equals(frame(i, sizes[i]!)), `frame ${i}`).toBe(true);
    close();
    await ended(ends);
    expect(ends).toEqual(['closed: frames pipe closed']);
  });
});

// Both readers, the same contract at the end of the pipe.
for (const [name, start, readerClosesIt] of [
  ['reader thread', startFrameReader, false],
  ['main thread', readFramesOnMainThread, true],
] as const) {
  it(`(${name}) reports a record cut short by the end of the pipe`, async () => {
    const { readFd, writeFd, close } = fifo(`short-${readerClosesIt}`, readerClosesIt);
    const ends: string[] = [];
    start(readFd, { frame: () => undefined, end: (reason, closed) => ends.push(`${closed ? 'closed' : 'failed'}: ${reason}`) });
    writeSync(writeFd, Buffer.concat([encodeRequestHeader(1, 1000), Buffer.alloc(10)]));
    close();
    await ended(ends);
    expect(ends).toEqual(['failed: frames pipe unreadable: frames pipe closed in the middle of a record']);
  });
}
