import { PixelArena } from '../pixels/pixel-arena.js';

/** A buffer lent out for one frame, and the way to give it back (Frame.release). */
export interface Lease {
  data: Buffer;
  release(): void;
}

/** Arena slots beyond the `keep` free ones: frames lent out at once in the steady state (slot, in flight, preparing). */
const ARENA_IN_USE = 5;

/**
 * Reuses frame buffers once their frame was released, so a steady camera allocates nothing per frame.
 * A buffer is never reused before its release: a frame the pipeline still reads cannot be overwritten. A consumer
 * that never releases only costs allocations (the garbage collector frees what nobody holds). At most `keep` free
 * buffers are held: with the slot holding one frame and the pipeline one, three cover the steady state.
 */
export class FrameBufferPool {
  private readonly free: Buffer[] = [];
  private allocations = 0;
  /** Where I420 frames are lent from, so that the resize kernel reads them in place (see PixelArena). */
  readonly arena: PixelArena | undefined;

  constructor(
    readonly size: number,
    readonly keep = 3,
    /** `i420`: frames the pipeline resizes: lent from a PixelArena while it has free slots (and the kernel is built). */
    kind: 'i420' | 'plain' = 'plain',
  ) {
    if (!Number.isInteger(size) || size <= 0) throw new Error(`invalid frame buffer size ${size}`);
    this.arena = kind === 'i420' ? PixelArena.create(size, keep + ARENA_IN_USE) : undefined;
  }

  /** A pool for a camera's I420 frames: lent from a PixelArena, where the resize kernel reads them in place. */
  static forI420(size: number): FrameBufferPool {
    return new FrameBufferPool(size, undefined, 'i420');
  }

  acquire(): Lease {
    let data = this.free.pop();
    if (!data) {
      data = this.arena?.take() ?? Buffer.allocUnsafe(this.size);
      this.allocations++;
    }
    let released = false;
    return {
      data,
      release: () => {
        // Twice is harmless: a buffer must never sit twice in the free list (two frames would share it).
        if (released) return;
        released = true;
        if (this.free.length < this.keep) this.free.push(data);
        else this.arena?.give(data);
      },
    };
  }

  /** Buffers allocated so far; flat once consumers release (diagnostics and tests). */
  get allocated(): number {
    return this.allocations;
  }
}
