/**
 * Model-input buffers for one camera's frames in flight, reused: a frame's input is given back once the detector has
 * answered it (the host has read it long before), so a camera allocates a few buffers instead of one a frame (49 KB
 * for a 128x128 model, 270 KB for a 300x300 SSD, which glibc hands out and takes back with mmap each time).
 * A buffer of another size (a failover to a model of another input size) is simply not kept.
 */
export class InputPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep = 3) {}

  /** A buffer of exactly `bytes` bytes (contents undefined). */
  take(bytes: number): Buffer {
    const i = this.free.findIndex((b) => b.length === bytes);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    return Buffer.allocUnsafeSlow(bytes);
  }

  /** Only after the detector answered the frame: nothing reads the buffer any more. */
  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}
