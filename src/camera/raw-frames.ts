/**
 * Cuts a byte stream of fixed-size raw frames (ffmpeg's rawvideo, rpicam-vid's yuv420) into one Buffer per frame.
 * Each byte is copied exactly once, from the pipe chunk into its frame; chunk boundaries fall anywhere.
 */
export class RawFrameAssembler {
  private current: Buffer | null = null;
  private filled = 0;
  private firstByteAt = 0;

  constructor(
    readonly frameSize: number,
    private readonly onFrame: (data: Buffer, firstByteAt: number) => void,
  ) {
    if (!Number.isInteger(frameSize) || frameSize <= 0) throw new Error(`invalid frame size ${frameSize}`);
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.current) {
        this.current = Buffer.allocUnsafe(this.frameSize);
        this.filled = 0;
        this.firstByteAt = performance.now();
      }
      const copied = chunk.copy(this.current, this.filled, offset, offset + this.frameSize - this.filled);
      offset += copied;
      this.filled += copied;
      if (this.filled === this.frameSize) {
        const frame = this.current;
        this.current = null;
        this.onFrame(frame, this.firstByteAt);
      }
    }
  }

  /** Forgets a partial frame (its producer died mid-frame: never deliver it); returns the bytes thrown away. */
  reset(): number {
    const lost = this.current ? this.filled : 0;
    this.current = null;
    this.filled = 0;
    return lost;
  }
}
