import { describe, expect, it } from 'vitest';
import { FrameBufferPool } from '../../src/camera/frame-buffer-pool.js';
import { RawFrameAssembler } from '../../src/camera/raw-frames.js';

/** Deterministic pseudo-random chunk sizes, from 1 byte to more than two frames. */
function* chunkSizes(seed: number, max: number): Generator<number> {
  let s = seed;
  for (;;) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    yield 1 + (s % max);
  }
}

describe('RawFrameAssembler', () => {
  it.each([1, 2, 3])('cuts a stream into exact frames whatever the chunk boundaries (seed %i)', (seed) => {
    const frameSize = 4 * 3 * 3;
    const stream = Buffer.from(Array.from({ length: frameSize * 5 + 17 }, (_, i) => (i * 7 + 3) & 255));
    const frames: Buffer[] = [];
    const assembler = new RawFrameAssembler(frameSize, (data) => frames.push(data));
    const sizes = chunkSizes(seed, frameSize * 2 + 5);
    for (let offset = 0; offset < stream.length; ) {
      const n = sizes.next().value as number;
      assembler.push(stream.subarray(offset, offset + n));
      offset += n;
    }
    expect(frames).toHaveLength(5);
    frames.forEach((f, i) => expect(f.equals(stream.subarray(i * frameSize, (i + 1) * frameSize))).toBe(true));
    expect(frames.every((f) => f.length === frameSize)).toBe(true);
    expect(assembler.reset()).toBe(17); // the partial frame is discarded, never delivered
    expect(frames).toHaveLength(5);
    expect(assembler.reset()).toBe(0);
  });

  it.each([4, 5])('reads in place (into, wrote): windows never cross a frame, frames are the stream, the pooled buffer is reused (seed %i)', (seed) => {
    const frameSize = 4 * 3 * 3;
    const stream = Buffer.from(Array.from({ length: frameSize * 5 + 17 }, (_, i) => (i * 5 + 1) & 255));
    const pool = new FrameBufferPool(frameSize, 4);
    const frames: Buffer[] = [];
    const assembler = new RawFrameAssembler(
      frameSize,
      (data, _at, release) => {
        frames.push(Buffer.from(data));
        release(); // at once: the next frame reads into the same buffer
      },
      pool,
    );
    const sizes = chunkSizes(seed, frameSize * 2 + 5);
    for (let offset = 0; offset < stream.length; ) {
      const window = assembler.into();
      expect(window.length).toBeLessThanOrEqual(frameSize);
      // A read fills at most the window (the pipe may hold less).
      const n = Math.min(window.length, sizes.next().value as number, stream.length - offset);
      stream.copy(window, 0, offset, offset + n);
      assembler.wrote(n);
      offset += n;
    }
    expect(frames).toHaveLength(5);
    frames.forEach((f, i) => expect(f.equals(stream.subarray(i * frameSize, (i + 1) * frameSize))).toBe(true));
    expect(assembler.reset()).toBe(17); // the partial frame is discarded, never delivered
    expect(frames).toHaveLength(5);
    expect(pool.allocated).toBe(1); // every frame read into the pool's one buffer, in place
  });

  it('frames are independent copies: reusing the chunk buffer does not change a delivered frame', () => {
    const frames: Buffer[] = [];
    const assembler = new RawFrameAssembler(4, (data) => frames.push(data));
    const chunk = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    assembler.push(chunk);
    chunk.fill(0);
    expect(frames.map((f) => [...f])).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
  });

  it('after a reset the next frame starts at the next byte', () => {
    const frames: Buffer[] = [];
    const assembler = new RawFrameAssembler(3, (data) => frames.push(data));
    assembler.push(Buffer.from([9, 9]));
    assembler.reset();
    assembler.push(Buffer.from([1, 2, 3]));
    expect(frames.map((f) => [...f])).toEqual([[1, 2, 3]]);
  });

  it('with a pool, cuts each frame straight into a lent buffer (no second copy); a partial one goes back on reset', () => {
    const pool = new FrameBufferPool(4, 2);
    const lent: Buffer[] = [];
    const frames: { data: Buffer; release: () => void }[] = [];
    const assembler = new RawFrameAssembler(4, (data, _at, release) => frames.push({ data, release }), {
      acquire: () => {
        const lease = pool.acquire();
        lent.push(lease.data);
        return lease;
      },
    });
    assembler.push(Buffer.from([1, 2, 3, 4, 5, 6]));
    expect(frames.map((f) => [...f.data])).toEqual([[1, 2, 3, 4]]);
    expect(frames[0]!.data).toBe(lent[0]); // the pool's own buffer, filled in place
    expect(assembler.reset()).toBe(2); // the partial frame's buffer is given back...
    frames[0]!.release();
    for (let i = 0; i < 20; i++) {
      assembler.push(Buffer.from([i, i, i, i]));
      frames.at(-1)!.release();
    }
    expect(frames).toHaveLength(21);
    expect(frames.at(-1)!.data.every((b) => b === 19)).toBe(true);
    expect(pool.allocated).toBe(2); // ...and so are the frames: two buffers for the whole stream
  });

  it('rejects a frame size that is not a positive integer', () => {
    expect(() => new RawFrameAssembler(0, () => {})).toThrow(/invalid frame size/);
    expect(() => new RawFrameAssembler(1.5, () => {})).toThrow(/invalid frame size/);
  });
});
