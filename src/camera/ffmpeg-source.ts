import type { Logger } from '../system/logger.js';
import { FrameBufferPool, type Lease } from './frame-buffer-pool.js';
import type { FrameSink, FrameSource, SourceCounters } from './frame.js';
import { i420Frame } from './i420-frame.js';
import { i420Layout, type I420Layout } from '../pixels/i420-layout.js';
import { RawFrameAssembler } from './raw-frames.js';
import { guardSink } from './sink-guard.js';
import { DEFAULT_SUPERVISOR_TIMING, SupervisedProcess, type RunHandlers, type SupervisorTiming } from './supervised-process.js';
import { maskUrlValue, SecretScrubber, urlPasswords } from '../system/secrets.js';

export interface FfmpegSourceOptions {
  /** Anything ffmpeg reads: a file, /dev/video0, rtsp://..., a lavfi graph. */
  input: string;
  /** Placed before `-i`: e.g. ['-f', 'v4l2'], ['-rtsp_transport', 'tcp'], ['-re'] to play a file in real time. */
  inputOptions: string[];
  width: number;
  height: number;
  fps: number;
  ffmpegPath?: string;
}

/** Restart, stall and kill timing; see SupervisorTiming. */
export type FfmpegTiming = SupervisorTiming;

/** A dead RTSP peer can take a while to notice: the stall limit is generous. */
export const DEFAULT_FFMPEG_TIMING: FfmpegTiming = { ...DEFAULT_SUPERVISOR_TIMING, stallAfterMs: 30_000 };

export function ffmpegArgs(o: FfmpegSourceOptions): string[] {
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...o.inputOptions,
    ...['-i', o.input, '-an', '-sn', '-dn'],
    // fps before scale: frames we drop are never scaled. Bilinear: cheaper than the bicubic default on a Pi.
    // I420 at full range, as the Pi camera gives it: half the bytes of RGB, no colour conversion in ffmpeg (0.7 ms a
    // 640x480 frame less here), and the pipeline resizes it to the model input in one pass. RGB is made only for
    // whoever asks (snapshots).
    ...['-vf', `fps=${o.fps},scale=${o.width}:${o.height}:flags=bilinear:out_range=full`],
    ...['-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1'],
  ];
}

/**
 * A camera (USB, RTSP, file) read through an ffmpeg child that writes fixed-size I420 frames to its stdout.
 * Failure policy (SupervisedProcess): when ffmpeg exits or stalls it is logged (warn) and restarted with exponential
 * backoff, `restarts` (and `stalls`) count it, and the sink's status says offline (error after repeated failed starts).
 * `sink.ended` is called only when we give up for good: the binary cannot be run at all (ENOENT, EACCES).
 */
export class FfmpegSource implements FrameSource {
  private readonly logger: Logger;
  private readonly origin: string;
  private readonly supervisor: SupervisedProcess;
  private sink: Required<FrameSink> | null = null;
  private readonly count = { captured: 0, skipped: 0 };
  private readonly layout: I420Layout;
  private readonly yuvPool: FrameBufferPool;
  private readonly rgbPool: FrameBufferPool;

  constructor(
    readonly camera: string,
    private readonly options: FfmpegSourceOptions,
    logger: Logger,
    timing: Partial<FfmpegTiming> = {},
  ) {
    for (const key of ['width', 'height'] as const) {
      if (!Number.isInteger(options[key]) || options[key] <= 0) throw new Error(`camera ${camera}: ${key} must be a positive integer`);
    }
    if (!(options.fps > 0) || !Number.isFinite(options.fps)) throw new Error(`camera ${camera}: fps must be > 0, got ${options.fps}`);
    this.layout = i420Layout(options.width, options.height, 'none');
    this.yuvPool = FrameBufferPool.forI420(this.layout.frameSize);
    this.rgbPool = new FrameBufferPool(options.width * options.height * 3);
    // The input's own password, raw and percent-decoded, wherever ffmpeg quotes it (its errors name the URL), plus
    // the URL pattern; then the whole-value mask for a password too short to be hunted as a literal.
    const scrubber = new SecretScrubber(urlPasswords(options.input));
    const scrub = (text: string): string => maskUrlValue(scrubber.scrub(text));
    this.origin = scrub(options.input);
    this.logger = logger.child({ source: 'ffmpeg' });
    const bin = options.ffmpegPath ?? 'ffmpeg';
    const where = options.ffmpegPath ? ` at ${options.ffmpegPath}` : '';
    this.supervisor = new SupervisedProcess(
      {
        name: 'ffmpeg',
        command: () => ({ bin, args: ffmpegArgs(options) }),
        stopSignal: 'SIGTERM',
        fps: options.fps,
        scrub,
        classifyExit: ({ code, signal, stderr }) => {
          const last = stderr.at(-1);
          return { reason: `ffmpeg ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${last ? `: ${last}` : ''}` };
        },
        spawnFailure: (err) =>
          err.code === 'ENOENT' ? `ffmpeg not found${where}: install it (apt-get install ffmpeg)` : `cannot run ffmpeg${where}: ${err.message}`,
      },
      {
        run: () => this.newRun(),
        status: (state, reason) => this.sink?.status(state, reason),
        gaveUp: (reason) => this.sink?.ended(reason),
      },
      this.logger,
      { ...DEFAULT_FFMPEG_TIMING, ...timing },
    );
  }

  /** The running ffmpeg's process id, if one is running (diagnostics and tests). */
  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  async start(sink: FrameSink): Promise<void> {
    if (this.sink) throw new Error(`camera ${this.camera}: source already started`);
    this.sink = guardSink(sink, this.logger);
    this.supervisor.start();
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
  }

  counters(): SourceCounters {
    return { ...this.count, ...this.supervisor.counters() };
  }

  private newRun(): RunHandlers {
    // Each frame is cut straight into a pooled buffer, which the frame owns until released.
    const assembler = new RawFrameAssembler(this.layout.frameSize, (data, firstByteAt, release) => this.onFrame({ data, release }, firstByteAt), this.yuvPool);
    return {
      data: (chunk) => assembler.push(chunk),
      // Read in place: ffmpeg's bytes land in the frame's buffer itself.
      into: () => assembler.into(),
      wrote: (bytes) => assembler.wrote(bytes),
      end: () => {
        const lost = assembler.reset();
        if (lost > 0) this.logger.debug({ bytes: lost }, 'partial frame at ffmpeg exit discarded');
      },
    };
  }

  private onFrame(yuv: Lease, firstByteAt: number): void {
    if (!this.supervisor.running) {
      yuv.release();
      return; // stop() was called: what is still in the pipe is not wanted
    }
    const now = performance.now();
    this.supervisor.frame();
    const { width, height } = this.options;
    const frame = i420Frame(
      // captureMs: the decode happens inside ffmpeg; this is the time the frame took to arrive
      { camera: this.camera, seq: this.count.captured, capturedAt: now, wallTime: Date.now(), captureMs: now - firstByteAt, width, height, origin: this.origin },
      yuv,
      this.layout,
      this.rgbPool,
    );
    this.count.captured++;
    this.sink!.frame(frame);
  }
}
