/**
 * Cuts a byte stream of fixed-size raw frames (ffmpeg's rawvideo, rpicam-vid's yuv420) into one Buffer per frame.
 * Each byte is copied exactly once, from the pipe chunk into its frame; chunk boundaries fall anywhere.
 * With `reuse`, every frame is cut into the same buffer: for consumers that are done with it when onFrame returns
 * (a converter), so a steady stream allocates nothing.
 */
export class RawFrameAssembler {
  private current: Buffer | null = null;
  private filled = 0;
  private firstByteAt = 0;

  constructor(
    readonly frameSize: number,
    private readonly onFrame: (data: Buffer, firstByteAt: number) => void,
    private readonly reuse = false,
  ) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) throw new Error(`invalid frame size ${frameSize}`);
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.filled === 0) {
        this.current ??= Buffer.allocUnsafe(this.frameSize);
        this.firstByteAt = performance.now();
      }
      const current = this.current!;
      const copied = chunk.copy(current, this.filled, offset, offset + this.frameSize - this.filled);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.frameSize) {
        this.filled = 0;
        if (!this.reuse) this.current = null;
        this.onFrame(current, this.firstByteAt);
      }
    }
  }

  /** Forgets a partial frame (its producer died mid-frame: never deliver it); returns the bytes thrown away. */
  reset(): number {
    const lost = this.filled;
    this.filled = 0;
    if (!this.reuse) this.current = null;
    return lost;
  }
}
