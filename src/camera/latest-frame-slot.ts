import type { Frame } from './frame.js';

export interface SlotCounters {
  put: number;
  /** Frames replaced before anyone took them, or put/left pending after close: every frame inference never saw. */
  dropped: number;
  taken: number;
}

/**
 * Holds at most one frame between a camera and inference, so capture never waits for a slow detector:
 * a newer frame replaces an unconsumed one and the old one is counted as dropped.
 * After close, put + pending frames count as dropped, so put === taken + dropped holds once closed.
 * The slot owns the frames it drops: it releases them (Frame.release), so a pooling source can reuse their buffers.
 * A frame handed to take() belongs to the taker, who releases it when done.
 */
export class LatestFrameSlot {
  private pending: Frame | null = null;
  private readonly waiters: Array<(frame: Frame | null) => void> = [];
  /** arrival() promises: resolved by the next put (or close). */
  private watchers: Array<() => void> = [];
  private closed = false;
  private readonly count: SlotCounters = { put: 0, dropped: 0, taken: 0 };

  put(frame: Frame): void {
    this.count.put++;
    if (this.watchers.length > 0) for (const w of this.watchers.splice(0)) w();
    if (this.closed) {
      this.count.dropped++;
      frame.release?.();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      this.count.taken++;
      waiter(frame);
      return;
    }
    if (this.pending) {
      this.count.dropped++;
      this.pending.release?.();
    }
    this.pending = frame;
  }

  /** The pending frame, or the next one put; null once the slot is closed. */
  take(): Promise<Frame | null> {
    if (this.pending) {
      const frame = this.pending;
      this.pending = null;
      this.count.taken++;
      return Promise.resolve(frame);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when the next frame is put (or the slot closes); the frame itself stays for take(). */
  arrival(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push(resolve));
  }

  /** Whether a frame is waiting to be taken. */
  get hasPending(): boolean {
    return this.pending !== null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending) {
      this.pending.release?.();
      this.pending = null;
      this.count.dropped++;
    }
    for (const waiter of this.waiters.splice(0)) waiter(null);
    for (const w of this.watchers.splice(0)) w();
  }

  counters(): SlotCounters {
    return { ...this.count };
  }
}
