import type { Frame } from '../camera/frame.js';

/** The longer side of the grey plane motion is computed on: 320x180 for a 16:9 camera, 320x240 for 4:3. */
export const MOTION_PLANE_WIDTH = 320;

/**
 * A small grey picture of a frame, for motion detection. Each plane pixel is the mean of four samples of its block
 * (at the quarter points), which smooths sensor noise at a fraction of a full block average's cost. An I420 frame
 * gives its Y plane as it is (no colour conversion); an RGB frame is turned grey with BT.601 weights on the samples
 * only. The sample tables are built once per frame size, so a frame costs no allocation.
 */
export class LumaPlane {
  readonly width: number;
  readonly height: number;
  /** The plane, row after row; rewritten by every sample(). */
  readonly data: Uint8Array;
  private readonly xa: Int32Array;
  private readonly xb: Int32Array;
  private readonly ya: Int32Array;
  private readonly yb: Int32Array;

  constructor(
    readonly frameWidth: number,
    readonly frameHeight: number,
    planeWidth = MOTION_PLANE_WIDTH,
  ) {
    if (!Number.isInteger(frameWidth) || !Number.isInteger(frameHeight) || frameWidth <= 0 || frameHeight <= 0) {
      throw new Error(`invalid frame size ${frameWidth}x${frameHeight}`);
    }
    const scale = Math.max(1, Math.max(frameWidth, frameHeight) / planeWidth);
    this.width = Math.max(1, Math.round(frameWidth / scale));
    this.height = Math.max(1, Math.round(frameHeight / scale));
    this.data = new Uint8Array(this.width * this.height);
    [this.xa, this.xb] = quarterPoints(frameWidth, this.width);
    [this.ya, this.yb] = quarterPoints(frameHeight, this.height);
  }

  /** Fills `data` from the frame (which must have the size this plane was made for). */
  sample(frame: Pick<Frame, 'width' | 'height' | 'i420' | 'data' | 'origin'>): Uint8Array {
    if (frame.width !== this.frameWidth || frame.height !== this.frameHeight) {
      throw new Error(`frame ${frame.origin} is ${frame.width}x${frame.height}, motion expects ${this.frameWidth}x${this.frameHeight}`);
    }
    if (frame.i420) this.fromLuma(frame.i420.data, frame.i420.layout.yStride);
    else this.fromRgb(frame.data);
    return this.data;
  }

  private fromLuma(src: Uint8Array, stride: number): void {
    const { width: w, height: h, xa, xb, ya, yb, data } = this;
    let o = 0;
    for (let j = 0; j < h; j++) {
      const r0 = ya[j]! * stride;
      const r1 = yb[j]! * stride;
      for (let i = 0; i < w; i++) {
        const a = xa[i]!;
        const b = xb[i]!;
        data[o++] = (src[r0 + a]! + src[r0 + b]! + src[r1 + a]! + src[r1 + b]! + 2) >> 2;
      }
    }
  }

  private fromRgb(src: Uint8Array): void {
    const { width: w, height: h, xa, xb, ya, yb, data } = this;
    const rowBytes = this.frameWidth * 3;
    const grey = (p: number): number => src[p]! * 77 + src[p + 1]! * 150 + src[p + 2]! * 29;
    let o = 0;
    for (let j = 0; j < h; j++) {
      const r0 = ya[j]! * rowBytes;
      const r1 = yb[j]! * rowBytes;
      for (let i = 0; i < w; i++) {
        const a = xa[i]! * 3;
        const b = xb[i]! * 3;
        data[o++] = (grey(r0 + a) + grey(r0 + b) + grey(r1 + a) + grey(r1 + b) + 512) >> 10;
      }
    }
  }
}

/** Per plane column (or row): the source positions at a quarter and three quarters of its block. */
function quarterPoints(srcLen: number, dstLen: number): [Int32Array, Int32Array] {
  const a = new Int32Array(dstLen);
  const b = new Int32Array(dstLen);
  const block = srcLen / dstLen;
  for (let i = 0; i < dstLen; i++) {
    a[i] = Math.min(srcLen - 1, Math.floor((i + 0.25) * block));
    b[i] = Math.min(srcLen - 1, Math.floor((i + 0.75) * block));
  }
  return [a, b];
}
