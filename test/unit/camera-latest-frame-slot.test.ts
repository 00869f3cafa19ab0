import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/camera/frame.js';
import { LatestFrameSlot } from '../../src/camera/latest-frame-slot.js';

const frame = (seq: number): Frame => ({
  camera: 'test',
  seq,
  capturedAt: seq,
  wallTime: seq,
  captureMs: 0,
  width: 1,
  height: 1,
  data: Buffer.alloc(3),
  origin: 'test',
});

/** Whether the promise has settled once the current microtasks and one macrotask turn are done. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('LatestFrameSlot', () => {
  it('keeps only the newest frame and counts the ones it replaced', async () => {
    const slot = new LatestFrameSlot();
    slot.put(frame(0));
    slot.put(frame(1));
    slot.put(frame(2));
    expect(slot.counters()).toEqual({ put: 3, dropped: 2, taken: 0 });
    expect(slot.hasPending).toBe(true);
    expect((await slot.take())?.seq).toBe(2);
    expect(slot.hasPending).toBe(false);
    expect(slot.counters()).toEqual({ put: 3, dropped: 2, taken: 1 });
  });

  it('take waits for the next frame, which then goes straight to the taker', async () => {
    const slot = new LatestFrameSlot();
    const next = slot.take();
    expect(await settled(next)).toBe(false);
    slot.put(frame(7));
    expect((await next)?.seq).toBe(7);
    expect(slot.hasPending).toBe(false);
    expect(slot.counters()).toEqual({ put: 1, dropped: 0, taken: 1 });
  });

  it('serves concurrent takers in order, one frame each', async () => {
    const slot = new LatestFrameSlot();
    const a = slot.take();
    const b = slot.take();
    slot.put(frame(1));
    slot.put(frame(2));
    expect([(await a)?.seq, (await b)?.seq]).toEqual([1, 2]);
  });

  it('close resolves waiting takers with null, drops the pending frame and later puts', async () => {
    const slot = new LatestFrameSlot();
    const waiting = slot.take();
    slot.close();
    expect(await waiting).toBeNull();

    const other = new LatestFrameSlot();
    other.put(frame(1));
    other.close();
    expect(await other.take()).toBeNull();
    other.put(frame(2));
    expect(await other.take()).toBeNull();
    const c = other.counters();
    expect(c).toEqual({ put: 2, dropped: 2, taken: 0 });
    expect(c.put).toBe(c.taken + c.dropped);
  });
});
