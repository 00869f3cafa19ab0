import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/camera/frame.js';
import { FrameBufferPool } from '../../src/camera/frame-buffer-pool.js';
import { LatestFrameSlot } from '../../src/camera/latest-frame-slot.js';

function frame(pool: FrameBufferPool, seq: number): Frame {
  const lease = pool.acquire();
  lease.data.fill(seq);
  return { camera: 'c', seq, capturedAt: 0, wallTime: 0, captureMs: 0, width: 2, height: 2, data: lease.data, origin: 'test', release: lease.release };
}

describe('FrameBufferPool', () => {
  it('never lends a buffer again before it was released', () => {
    const pool = new FrameBufferPool(12);
    const held = Array.from({ length: 10 }, () => pool.acquire());
    expect(new Set(held.map((l) => l.data)).size).toBe(10);
    expect(pool.allocated).toBe(10);
  });

  it('reuses released buffers, keeps at most `keep` of them, and ignores a second release', () => {
    const pool = new FrameBufferPool(12, 2);
    const [a, b, c] = [pool.acquire(), pool.acquire(), pool.acquire()];
    a.release();
    a.release(); // twice: must not put the buffer in the free list twice
    b.release();
    c.release(); // over `keep`: left to the garbage collector
    const next = [pool.acquire(), pool.acquire(), pool.acquire()];
    expect(new Set(next.map((l) => l.data)).size).toBe(3);
    expect(next.map((l) => l.data).filter((d) => d === a.data || d === b.data)).toHaveLength(2);
    expect(pool.allocated).toBe(4);
  });
});

describe('LatestFrameSlot with pooled frames', () => {
  it('releases the frames it drops, so a steady stream with a slow consumer allocates a handful of buffers', async () => {
    const pool = new FrameBufferPool(12);
    const slot = new LatestFrameSlot();
    for (let seq = 0; seq < 100; seq++) {
      slot.put(frame(pool, seq));
      if (seq % 10 === 9) {
        const taken = (await slot.take())!;
        expect(taken.data.every((b) => b === taken.seq)).toBe(true); // not overwritten while held
        taken.release!();
      }
    }
    expect(pool.allocated).toBeLessThanOrEqual(3);
    expect(slot.counters()).toEqual({ put: 100, taken: 10, dropped: 90 });
  });

  it('never hands a buffer the consumer still holds to a new frame', async () => {
    const pool = new FrameBufferPool(12);
    const slot = new LatestFrameSlot();
    slot.put(frame(pool, 1));
    const held = (await slot.take())!; // the pipeline holds this one, unreleased
    for (let seq = 2; seq < 50; seq++) slot.put(frame(pool, seq));
    expect(held.data.every((b) => b === 1)).toBe(true);
    slot.close(); // the pending frame is dropped and released
    held.release!();
    expect(pool.allocated).toBeLessThanOrEqual(3);
  });
});
