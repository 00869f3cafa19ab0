import { performance } from 'node:perf_hooks';
import { FrameBufferPool } from '../camera/frame-buffer-pool.js';
import type { Frame, FrameSink, FrameSource, SourceCounters } from '../camera/frame.js';
import { i420Layout, type I420Layout } from '../pixels/i420-layout.js';
import { i420ToRgb } from '../pixels/i420-rgb.js';

export interface SyntheticSourceOptions {
  width?: number;
  height?: number;
  /** Frames a second from the timer, on top of one new frame each time the pipeline finishes one. */
  fps?: number;
  /** Rows the pattern moves each frame (rounded down to an even number: chroma rows cover two). */
  step?: number;
  /** `i420`: what a Pi camera gives (RGB made only if someone reads `data`); `rgb`: packed RGB only. */
  format?: 'i420' | 'rgb';
}

const CAPTURE_RING = 4096;

/**
 * A camera faster than any inference: a moving pattern (640x480 by default) that costs next to nothing to produce.
 * The picture is drawn once, twice as tall as a frame; each frame is the window one `step` further down: an I420
 * frame copies its three planes into a pooled buffer (as the real I420 sources do), an RGB frame is a view (no
 * copy). A frame goes out on a timer (default 250 fps), as a camera's stream, and also whenever the pipeline is about
 * to take one (`pull`): the frame it gets is made for it, as from a camera infinitely faster than inference, so
 * end to end is the daemon's own latency and not a camera's frame interval. Every frame not taken is counted.
 */
export class SyntheticSource implements FrameSource {
  readonly width: number;
  readonly height: number;
  readonly format: 'i420' | 'rgb';
  private readonly intervalMs: number;
  private readonly step: number;
  private readonly pattern: Pattern;
  private readonly layout: I420Layout;
  private readonly yuvPool: FrameBufferPool;
  private sink: FrameSink | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private seq = 0;
  private readonly count: SourceCounters = { captured: 0, skipped: 0, restarts: 0 };
  private readonly ringSeq = new Float64Array(CAPTURE_RING).fill(-1);
  private readonly ringAt = new Float64Array(CAPTURE_RING);

  constructor(
    readonly camera: string,
    opts: SyntheticSourceOptions = {},
  ) {
    this.width = opts.width ?? 640;
    this.height = opts.height ?? 480;
    this.format = opts.format ?? 'i420';
    if (this.width % 2 || this.height % 2) throw new Error(`synthetic source: width and height must be even, got ${this.width}x${this.height}`);
    const fps = opts.fps ?? 250;
    if (!(fps > 0)) throw new Error(`synthetic source: fps must be > 0, got ${fps}`);
    this.intervalMs = 1000 / fps;
    this.step = Math.max(2, (opts.step ?? 4) & ~1);
    this.pattern = drawPattern(this.width, this.height);
    this.layout = i420Layout(this.width, this.height, 'none');
    this.yuvPool = FrameBufferPool.forI420(this.layout.frameSize);
  }

  async start(sink: FrameSink): Promise<void> {
    if (this.sink) throw new Error(`camera ${this.camera}: source already started`);
    this.sink = sink;
    this.running = true;
    sink.status?.('online', `synthetic ${this.width}x${this.height} ${this.format}`);
    this.emit();
    this.timer = setInterval(() => this.emit(), Math.max(1, this.intervalMs));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  counters(): SourceCounters {
    return { ...this.count };
  }

  /** Stops the timer's frames (the bench pauses the camera while it measures the raw runtime alone). */
  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  resume(): void {
    if (!this.running || this.timer) return;
    this.timer = setInterval(() => this.emit(), Math.max(1, this.intervalMs));
  }

  /** performance.now() when frame `seq` was made, while it is among the last few thousand; else undefined. */
  capturedAt(seq: number): number | undefined {
    const i = seq % CAPTURE_RING;
    return this.ringSeq[i] === seq ? this.ringAt[i] : undefined;
  }

  /** Packed RGB of what frame `index` shows (a view into the pattern: read it, never write it). */
  rgb(index: number): Buffer {
    const rowBytes = this.width * 3;
    const offset = this.rowOffset(index) * rowBytes;
    return this.pattern.rgb.subarray(offset, offset + rowBytes * this.height);
  }

  /** Frame `index` as the sink would get it, without emitting or counting it (e.g. a model input for the raw loop). */
  makeFrame(index: number): Frame {
    return this.build(index);
  }

  private build(index: number): Frame {
    let done = false;
    const release = (): void => {
      if (done) return; // twice would hand the pooled buffer back twice
      done = true;
      lease?.release();
    };
    const lease = this.format === 'i420' ? this.yuvPool.acquire() : undefined;
    if (lease) this.copyPlanes(index, lease.data);
    const capturedAt = performance.now();
    const fields = {
      camera: this.camera,
      seq: index,
      capturedAt,
      wallTime: Date.now(),
      captureMs: 0,
      width: this.width,
      height: this.height,
      origin: `synthetic:${this.width}x${this.height}`,
    };
    if (!lease) return { ...fields, data: this.rgb(index), release };
    const { layout, width, height } = this;
    let rgb: Buffer | undefined;
    return {
      ...fields,
      i420: { data: lease.data, layout },
      // Made only when read: the pipeline resizes from the I420 planes and never asks.
      get data(): Buffer {
        if (!rgb) {
          rgb = Buffer.allocUnsafe(width * height * 3);
          i420ToRgb(lease.data, layout, rgb);
        }
        return rgb;
      },
      release,
    };
  }

  private rowOffset(index: number): number {
    return (index * this.step) % this.height;
  }

  private copyPlanes(index: number, out: Buffer): void {
    const { width: w, height: h, layout } = this;
    const r = this.rowOffset(index);
    const cw = w / 2;
    const ch = h / 2;
    this.pattern.y.copy(out, 0, r * w, (r + h) * w);
    this.pattern.u.copy(out, layout.uOffset, (r / 2) * cw, (r / 2 + ch) * cw);
    this.pattern.v.copy(out, layout.vOffset, (r / 2) * cw, (r / 2 + ch) * cw);
  }

  /** Time spent making frames so far (ms), the emitted ones: the camera's share of the daemon's CPU in the bench. */
  get captureMs(): number {
    return this.makingMs;
  }

  private makingMs = 0;

  private emit(): void {
    if (!this.running || !this.sink) return;
    const seq = this.seq++;
    const startedAt = performance.now();
    const frame = this.build(seq);
    this.makingMs += performance.now() - startedAt;
    this.ringSeq[seq % CAPTURE_RING] = seq;
    this.ringAt[seq % CAPTURE_RING] = frame.capturedAt;
    this.count.captured++;
    this.sink.frame(frame);
  }

  /** The pipeline is about to take a frame: make it now, as a camera far faster than inference would have one ready. */
  pull(): void {
    this.emit();
  }
}

/** The moving picture, each plane `height` rows repeated twice so that any window of `height` rows is a frame. */
export interface Pattern {
  rgb: Buffer;
  y: Buffer;
  u: Buffer;
  v: Buffer;
}

/** Colour gradients, a checkerboard and diagonal bands, in RGB and in I420 planes (not a colour match: a picture). */
export function drawPattern(width: number, height: number): Pattern {
  const rowBytes = width * 3;
  const rgb = Buffer.allocUnsafe(rowBytes * height * 2);
  const y = Buffer.allocUnsafe(width * height * 2);
  const cw = width / 2;
  const ch = height / 2;
  const u = Buffer.allocUnsafe(cw * ch * 2);
  const v = Buffer.allocUnsafe(cw * ch * 2);
  for (let row = 0; row < height; row++) {
    for (let x = 0; x < width; x++) {
      const i = row * rowBytes + x * 3;
      const checker = ((x >> 5) + (row >> 5)) & 1 ? 60 : 0;
      const band = ((x + row) >> 4) % 4 === 0 ? 120 : 0;
      rgb[i] = (((x * 255) / width) | 0) ^ checker;
      rgb[i + 1] = (((row * 255) / height) | 0) ^ band;
      rgb[i + 2] = (128 + checker + band) & 255;
      y[row * width + x] = (16 + ((x + row) * 200) / (width + height) + checker + (band >> 1)) & 255;
    }
  }
  for (let row = 0; row < ch; row++) {
    for (let x = 0; x < cw; x++) {
      u[row * cw + x] = 64 + (((x * 128) / cw) | 0);
      v[row * cw + x] = 64 + (((row * 128) / ch) | 0) + (((x + row) >> 3) % 2 ? 30 : 0);
    }
  }
  const twice = (b: Buffer): Buffer => {
    b.copy(b, b.length / 2, 0, b.length / 2);
    return b;
  };
  return { rgb: twice(rgb), y: twice(y), u: twice(u), v: twice(v) };
}
