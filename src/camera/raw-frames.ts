import type { Lease } from './frame-buffer-pool.js';

/**
 * Cuts a byte stream of fixed-size raw frames (ffmpeg's rawvideo, rpicam-vid's yuv420) into one buffer per frame.
 * Each byte is copied exactly once, from the pipe chunk into its frame; chunk boundaries fall anywhere. With a
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

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.filled === 0) {
        this.current ??= this.buffers?.acquire() ?? { data: Buffer.allocUnsafe(this.frameSize), release: NOTHING };
        this.firstByteAt = performance.now();
      }
      const current = this.current!;
      const copied = chunk.copy(current.data, this.filled, offset, offset + this.frameSize - this.filled);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.frameSize) {
        this.filled = 0;
        this.current = null;
        this.onFrame(current.data.length === this.frameSize ? current.data : current.data.subarray(0, this.frameSize), this.firstByteAt, current.release);
      }
    }
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
