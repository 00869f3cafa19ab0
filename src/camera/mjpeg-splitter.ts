/** Why bytes were thrown away, for logs and sink.skipped. */
export type DiscardReason = 'junk before SOI' | 'over size cap' | 'corrupt marker' | 'new SOI before EOI' | 'truncated';

const enum State {
  /** Looking for FF D8. */
  Seek,
  /** Inside an image, expecting FF <marker>. */
  Marker,
  /** Reading a marker segment's two length bytes. */
  Length,
  /** Skipping the rest of a marker segment. */
  Segment,
  /** Entropy-coded data after SOS: only FF followed by something other than 00, RSTn or FF ends it. */
  Entropy,
}

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;

/**
 * Cuts a stream of back-to-back JPEG images (rpicam-vid --codec mjpeg) into whole images. It walks the marker
 * segments instead of searching for FF D9, so an EXIF thumbnail inside APP1 (which has its own SOI and EOI) cannot
 * cut an image short. An image over `maxBytes` or with a broken marker is dropped, and the splitter resyncs on the
 * next SOI. The image being assembled lives in one reused buffer; each finished image is handed out as its own copy
 * (it goes to an asynchronous decoder).
 */
export class MjpegSplitter {
  private acc: Buffer;
  /** Bytes of the current image held in `acc` (from earlier chunks). */
  private len = 0;
  /** Where the current image's bytes start in the chunk being pushed (-1: not in an image). */
  private imgStart = -1;
  private state = State.Seek;
  /** The previous byte was FF (a marker may be split across chunks). */
  private prevFF = false;
  private lengthHi = -1;
  private remaining = 0;
  private inScan = false;
  private junk = 0;

  constructor(
    readonly maxBytes: number,
    private readonly onImage: (jpeg: Buffer) => void,
    private readonly onDiscard: (bytes: number, reason: DiscardReason) => void,
  ) {
    if (!Number.isInteger(maxBytes) || maxBytes < 4) throw new Error(`invalid JPEG size cap ${maxBytes}`);
    this.acc = Buffer.allocUnsafe(Math.min(maxBytes, 256 * 1024));
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    this.imgStart = this.state === State.Seek ? -1 : 0;
    while (i < n) {
      if (this.state === State.Seek) {
        i = this.seek(chunk, i);
        continue;
      }
      const b = chunk[i++]!;
      switch (this.state) {
        case State.Entropy:
          if (!this.prevFF) {
            const ff = chunk.indexOf(0xff, i - 1);
            if (ff < 0) i = n;
            else {
              i = ff + 1;
              this.prevFF = true;
            }
          } else if (b === 0xff) {
            // fill byte: still FF
          } else {
            this.prevFF = false;
            if (b !== 0x00 && !(b >= 0xd0 && b <= 0xd7)) this.marker(chunk, i, b);
          }
          break;
        case State.Marker:
          if (!this.prevFF) {
            if (b === 0xff) this.prevFF = true;
            else this.drop(i, 'corrupt marker');
          } else if (b !== 0xff) {
            this.prevFF = false;
            this.marker(chunk, i, b);
          }
          break;
        case State.Length:
          if (this.lengthHi < 0) {
            this.lengthHi = b;
          } else {
            this.remaining = ((this.lengthHi << 8) | b) - 2;
            this.lengthHi = -1;
            if (this.remaining < 0) this.drop(i, 'corrupt marker');
            else this.state = this.remaining > 0 ? State.Segment : this.inScan ? State.Entropy : State.Marker;
          }
          break;
        case State.Segment: {
          const take = Math.min(this.remaining, n - i + 1);
          i += take - 1;
          this.remaining -= take;
          if (this.remaining === 0) this.state = this.inScan ? State.Entropy : State.Marker;
          break;
        }
      }
      if (this.imgStart >= 0 && this.len + i - this.imgStart > this.maxBytes) this.drop(i, 'over size cap');
    }
    if (this.imgStart >= 0) this.keep(chunk, this.imgStart, n);
  }

  /** Forgets a partial image (its producer died mid-image: never deliver it); returns the bytes thrown away. */
  reset(): number {
    const lost = this.len + this.junk;
    if (this.junk > 0) this.onDiscard(this.junk, 'junk before SOI');
    if (this.len > 0) this.onDiscard(this.len, 'truncated');
    this.len = 0;
    this.junk = 0;
    this.toSeek();
    return lost;
  }

  /** Finds the next SOI from `from`; returns where to go on. */
  private seek(chunk: Buffer, from: number): number {
    const n = chunk.length;
    if (this.prevFF && from === 0 && chunk[0] === SOI) {
      // FF D8 split across chunks: the FF was counted as junk.
      this.junk--;
      this.begin(-1);
      return 1;
    }
    this.prevFF = false;
    for (let i = from; ; ) {
      const ff = chunk.indexOf(0xff, i);
      if (ff < 0 || ff === n - 1) {
        this.junk += n - from;
        this.prevFF = ff === n - 1;
        return n;
      }
      if (chunk[ff + 1] === SOI) {
        this.junk += ff - from;
        this.begin(ff);
        return ff + 2;
      }
      i = ff + 1;
    }
  }

  /** Starts an image whose SOI's FF is at `ff` in this chunk (-1: it was the last byte of the previous chunk). */
  private begin(ff: number): void {
    if (this.junk > 0) this.onDiscard(this.junk, 'junk before SOI');
    this.junk = 0;
    this.toSeek();
    this.state = State.Marker;
    if (ff >= 0) {
      this.len = 0;
      this.imgStart = ff;
    } else {
      this.acc[0] = 0xff;
      this.len = 1;
      this.imgStart = 0;
    }
  }

  /** The marker byte `m` after an FF; `i` is just past it. */
  private marker(chunk: Buffer, i: number, m: number): void {
    if (m === EOI) {
      this.finish(chunk, i);
    } else if (m === SOI) {
      // A new image began before this one ended (the producer restarted mid-image): keep the new one.
      const ff = i - 2;
      const old = ff >= 0 ? this.len + ff - this.imgStart : this.len - 1;
      this.onDiscard(old, 'new SOI before EOI');
      this.len = 0;
      this.begin(ff);
    } else if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      this.state = this.inScan ? State.Entropy : State.Marker; // standalone markers carry no length
    } else {
      this.inScan = m === SOS;
      this.state = State.Length;
    }
  }

  private finish(chunk: Buffer, end: number): void {
    const size = this.len + end - this.imgStart;
    if (size > this.maxBytes) {
      this.drop(end, 'over size cap');
      return;
    }
    const jpeg = Buffer.allocUnsafe(size);
    this.acc.copy(jpeg, 0, 0, this.len);
    chunk.copy(jpeg, this.len, this.imgStart, end);
    this.len = 0;
    this.imgStart = -1;
    this.toSeek();
    this.onImage(jpeg);
  }

  /** Drops the current image up to `end` in this chunk and resyncs on the next SOI. */
  private drop(end: number, reason: DiscardReason): void {
    this.onDiscard(this.len + end - this.imgStart, reason);
    this.len = 0;
    this.imgStart = -1;
    this.toSeek();
  }

  /** Keeps chunk[start, end) of an unfinished image for the next push. */
  private keep(chunk: Buffer, start: number, end: number): void {
    const size = this.len + end - start;
    if (size > this.acc.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(size, this.acc.length * 2)));
      this.acc.copy(bigger, 0, 0, this.len);
      this.acc = bigger;
    }
    chunk.copy(this.acc, this.len, start, end);
    this.len = size;
  }

  private toSeek(): void {
    this.state = State.Seek;
    this.prevFF = false;
    this.lengthHi = -1;
    this.remaining = 0;
    this.inScan = false;
  }
}
