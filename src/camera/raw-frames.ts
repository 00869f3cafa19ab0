import type { Lease } from './frame-buffer-pool.js';

/**
 * Cuts a byte stream of fixed-size raw frames (ffmpeg's rawvideo, rpicam-vid's yuv420) into one buffer per frame.
 * A reader that can read in place asks into() where the next bytes go and says how many came (wrote): the pipe's
 * bytes land in the frame itself. Chunks (push) are copied exactly once, into their frame; boundaries fall anywhere. With a
 * `buffers` pool (a camera's frame pool) each frame is cut straight into a buffer lent by it, which onFrame's
 * receiver owns and gives back with `release` (for I420 frames that buffer lies where the resize kernel reads it):
 * no second copy of every frame. Without one, each frame gets a new Buffer.
 */
export class RawFrameAssembler {
  private current: { data: Buffer; release(): void } | null = null;
  private filled = 0;
  private firstByteAt = 0;

  constructor(
    readonly frameSize: number,
    private readonly onFrame: (data: Buffer, firstByteAt: number, release: () => void) => void,
    private readonly buffers?: { acquire(): Lease },
  ) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) throw new Error(`invalid frame size ${frameSize}`);
  }

  /**
   * Where the next read of the stream may land: the rest of the frame being filled, in its pooled buffer, so the pipe's
   * bytes go straight into the frame with no copy at all (the camera's reader, process-group.ts). Then wrote().
   */
  into(): Buffer {
    return this.frameBuffer().data.subarray(this.filled, this.frameSize);
  }

  /** `bytes` were read into the window into() gave; a frame complete with them is delivered. */
  wrote(bytes: number): void {
    if (bytes <= 0) return;
    if (this.filled === 0) this.firstByteAt = performance.now();
    this.filled += bytes;
    if (this.filled >= this.frameSize) this.deliver();
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const current = this.frameBuffer();
      if (this.filled === 0) this.firstByteAt = performance.now();
      const copied = chunk.copy(current.data, this.filled, offset, offset + this.frameSize - this.filled);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.frameSize) this.deliver();
    }
  }

  /** The buffer of the frame being filled, lent by the pool when a frame starts. */
  private frameBuffer(): { data: Buffer; release(): void } {
    this.current ??= this.buffers?.acquire() ?? { data: Buffer.allocUnsafe(this.frameSize), release: NOTHING };
    return this.current;
  }

  private deliver(): void {
    const current = this.current!;
    this.filled = 0;
    this.current = null;
    this.onFrame(current.data.length === this.frameSize ? current.data : current.data.subarray(0, this.frameSize), this.firstByteAt, current.release);
  }

  /** Forgets a partial frame (its producer died mid-frame: never deliver it); returns the bytes thrown away. */
  reset(): number {
    const lost = this.filled;
    this.filled = 0;
    this.current?.release();
    this.current = null;
    return lost;
  }
}

const NOTHING = (): void => undefined;
