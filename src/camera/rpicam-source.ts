import type { Logger } from '../system/logger.js';
import { DEFAULT_MAX_PIXELS, decodeImage, ImageDecodeError } from './decode.js';
import type { Frame, FrameSink, FrameSource, SourceCounters } from './frame.js';
import { FrameBufferPool, type Lease } from './frame-buffer-pool.js';
import { i420Layout, type I420Layout, type StrideRule } from '../pixels/i420-layout.js';
import { DEVICE_TREE_MODEL, readBoardModel, strideRuleForModel } from './board-model.js';
import { i420Frame } from './i420-frame.js';
import { MjpegSplitter } from './mjpeg-splitter.js';
import { RawFrameAssembler } from './raw-frames.js';
import { findRpicamBinary, rpicamArgs, validateRpicam, type RpicamSettings } from './rpicam-args.js';
import { classifyRpicamExit } from './rpicam-exit.js';
import { guardSink } from './sink-guard.js';
import { SupervisedProcess, type RunHandlers, type SupervisorTiming } from './supervised-process.js';

/** What the config does not say: where to look things up. Tests point these at fakes. */
export interface RpicamRuntime {
  /** The child's environment; its PATH is where rpicam-vid / libcamera-vid are looked up. Default: ours. */
  env?: NodeJS.ProcessEnv;
  /** Read for stride "auto" (default /proc/device-tree/model). */
  deviceTreeModel?: string;
  /** Largest JPEG accepted in mjpeg mode; default: 4 bytes per pixel, which no real frame reaches. */
  maxJpegBytes?: number;
}

/** A JPEG waiting for the decoder (only the newest one waits: older ones are dropped and counted). */
interface PendingJpeg {
  jpeg: Buffer;
  seq: number;
  at: number;
}

/**
 * The Raspberry Pi camera through rpicam-vid (libcamera-vid on older systems), streaming without end to stdout.
 * yuv420: fixed-size I420 frames (rows padded by the Pi's rule) converted to RGB in JS into a small buffer pool.
 * mjpeg: whole JPEGs decoded by sharp off the main thread, one at a time; a JPEG arriving meanwhile replaces the
 * one waiting, and the replaced one counts as dropped. stdout is always drained either way.
 * Failures follow SupervisedProcess: restarts with backoff, a stall watchdog, and status for the sink.
 */
export class RpicamSource implements FrameSource {
  private readonly logger: Logger;
  private readonly supervisor: SupervisedProcess;
  private readonly origin: string;
  private readonly env: NodeJS.ProcessEnv;
  private sink: Required<FrameSink> | null = null;
  private layout: I420Layout | null = null;
  private pool: FrameBufferPool | null = null;
  private yuvPool: FrameBufferPool | null = null;
  private stopped = false;
  private produced = 0;
  private decoding: Promise<void> | null = null;
  private pendingJpeg: PendingJpeg | null = null;
  private binary = '';
  private readonly count = { captured: 0, skipped: 0, dropped: 0 };

  constructor(
    readonly camera: string,
    private readonly settings: RpicamSettings,
    logger: Logger,
    private readonly runtime: RpicamRuntime = {},
    timing: Partial<SupervisorTiming> = {},
  ) {
    validateRpicam(camera, settings);
    this.logger = logger.child({ source: 'rpicam' });
    this.env = runtime.env ?? process.env;
    this.origin = `rpicam camera ${settings.camera}`;
    const configured = settings.rpicamPath;
    this.supervisor = new SupervisedProcess(
      {
        name: 'rpicam-vid',
        command: () => {
          this.binary = findRpicamBinary(configured, this.env);
          return { bin: this.binary, args: rpicamArgs(settings) };
        },
        env: this.env,
        stopSignal: 'SIGINT', // rpicam-vid stops the camera cleanly on SIGINT; SIGTERM can leave it held for a moment
        fps: settings.framerate,
        classifyExit: (end) => classifyRpicamExit(this.binaryName(), end),
        spawnFailure: (err, bin) =>
          err.code === 'ENOENT'
            ? configured
              ? `${configured} not found: check source.rpicamPath`
              : 'rpicam-vid not found on PATH (nor libcamera-vid): install rpicam-apps (apt-get install rpicam-apps)'
            : `cannot run ${bin}: ${err.message}`,
      },
      {
        run: () => this.newRun(),
        status: (state, reason) => this.sink?.status(state, reason),
        gaveUp: (reason) => this.sink?.ended(reason),
      },
      this.logger,
      { stallAfterMs: settings.stallSeconds * 1000, ...timing },
    );
  }

  /** The running rpicam-vid's process id, if one is running (diagnostics and tests). */
  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  /** Frame buffers allocated so far: stays at a handful once consumers release frames. */
  get buffersAllocated(): number {
    return (this.pool?.allocated ?? 0) + (this.yuvPool?.allocated ?? 0);
  }

  async start(sink: FrameSink): Promise<void> {
    if (this.sink) throw new Error(`camera ${this.camera}: source already started`);
    this.sink = guardSink(sink, this.logger);
    const { width, height, codec } = this.settings;
    if (codec === 'yuv420') {
      const rule = await this.strideRule();
      this.layout = i420Layout(width, height, rule);
      this.pool = new FrameBufferPool(width * height * 3);
      this.yuvPool = FrameBufferPool.forI420(this.layout.frameSize);
    }
    if (this.stopped) return;
    this.supervisor.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pendingJpeg = null;
    await this.supervisor.stop();
    while (this.decoding) await this.decoding;
  }

  counters(): SourceCounters {
    return { ...this.count, ...this.supervisor.counters() };
  }

  private binaryName(): string {
    return this.binary.split('/').at(-1) || 'rpicam-vid';
  }

  private async strideRule(): Promise<StrideRule> {
    const { stride, width } = this.settings;
    if (stride !== 'auto') return stride;
    const file = this.runtime.deviceTreeModel ?? DEVICE_TREE_MODEL;
    const model = await readBoardModel(file);
    const rule = model === null ? 'none' : strideRuleForModel(model);
    if (rule === 'none' && width % 128 !== 0) {
      // Off a Pi the producer is a stand-in that writes packed rows; on an unknown board a wrong guess shears the picture.
      this.logger.warn({ model, file }, 'not a known Raspberry Pi: assuming unpadded I420 rows; set source.stride if frames look sheared');
    } else {
      this.logger.info({ model, stride: rule }, 'I420 row padding chosen from the board model');
    }
    return rule;
  }

  private newRun(): RunHandlers {
    if (this.layout) {
      // Each frame is cut straight into a pooled buffer (where the resize kernel reads it), owned by the frame.
      const assembler = new RawFrameAssembler(this.layout.frameSize, (data, firstByteAt, release) => this.onI420({ data, release }, firstByteAt), this.yuvPool!);
      return {
        data: (chunk) => assembler.push(chunk),
        // Read in place: rpicam-vid's bytes land in the frame's buffer itself.
        into: () => assembler.into(),
        wrote: (bytes) => assembler.wrote(bytes),
        end: () => this.discarded(assembler.reset(), 'partial frame'),
      };
    }
    const { width, height } = this.settings;
    const splitter = new MjpegSplitter(
      this.runtime.maxJpegBytes ?? width * height * 4 + 65_536,
      (jpeg) => this.onJpeg(jpeg),
      (bytes, reason) => this.onJpegDiscard(bytes, reason),
    );
    return { data: (chunk) => splitter.push(chunk), end: () => splitter.reset() };
  }

  private discarded(bytes: number, what: string): void {
    if (bytes > 0) this.logger.debug({ bytes }, `${what} at rpicam-vid exit discarded`);
  }

  private onI420(yuv: Lease, firstByteAt: number): void {
    if (!this.supervisor.running) {
      yuv.release();
      return;
    }
    this.supervisor.frame();
    const { width, height } = this.settings;
    const now = performance.now();
    // RGB only if someone asks for it.
    this.deliver(
      i420Frame(
        { camera: this.camera, seq: this.produced++, capturedAt: now, wallTime: Date.now(), captureMs: now - firstByteAt, width, height, origin: this.origin },
        yuv,
        this.layout!,
        this.pool!,
      ),
    );
  }

  private onJpeg(jpeg: Buffer): void {
    if (!this.supervisor.running) return;
    this.supervisor.frame();
    const job = { jpeg, seq: this.produced++, at: performance.now() };
    if (this.decoding) {
      if (this.pendingJpeg) this.count.dropped++;
      this.pendingJpeg = job;
      return;
    }
    this.decode(job);
  }

  private onJpegDiscard(bytes: number, reason: string): void {
    if (reason === 'junk before SOI' || reason === 'truncated') {
      this.logger.debug({ bytes, reason }, 'MJPEG bytes discarded');
      return;
    }
    // A torn or oversized image is a frame we could not read.
    this.count.skipped++;
    this.sink?.skipped(this.origin, `MJPEG image dropped: ${reason} (${bytes} bytes)`);
  }

  private decode(job: PendingJpeg): void {
    this.decoding = (async () => {
      try {
        // The configured size is what rpicam-vid sends; a JPEG claiming more (a corrupt header) is refused undecoded.
        const { width, height } = this.settings;
        const image = await decodeImage(job.jpeg, this.origin, Math.max(DEFAULT_MAX_PIXELS, width * height));
        if (this.stopped) return;
        const now = performance.now();
        this.deliver({
          camera: this.camera,
          seq: job.seq,
          capturedAt: now,
          wallTime: Date.now(),
          captureMs: now - job.at,
          width: image.width,
          height: image.height,
          data: image.data,
          origin: this.origin,
        });
      } catch (err) {
        this.count.skipped++;
        this.sink?.skipped(this.origin, err instanceof ImageDecodeError ? err.reason : (err as Error).message);
      } finally {
        this.decoding = null;
        const next = this.pendingJpeg;
        this.pendingJpeg = null;
        if (next && !this.stopped) this.decode(next);
      }
    })();
  }

  private deliver(frame: Frame): void {
    this.count.captured++;
    this.sink!.frame(frame);
  }
}
