import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../system/logger.js';
import type { Frame, FrameSink, FrameSource, SourceCounters } from './frame.js';
import { RawFrameAssembler } from './raw-frames.js';
import { guardSink } from './sink-guard.js';

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

export interface FfmpegTiming {
  backoffMinMs: number;
  backoffMaxMs: number;
  /** A run that delivered frames for this long was healthy: the next restart waits backoffMinMs again. */
  stableAfterMs: number;
  /** SIGKILL when SIGTERM has not ended ffmpeg after this long. */
  killAfterMs: number;
  /** No frame for this long (or 3 frame intervals, if longer): ffmpeg is hung (a dead RTSP peer); kill and restart. */
  stallAfterMs: number;
}

export const DEFAULT_FFMPEG_TIMING: FfmpegTiming = {
  backoffMinMs: 1_000,
  backoffMaxMs: 30_000,
  stableAfterMs: 60_000,
  killAfterMs: 2_000,
  stallAfterMs: 30_000,
};

const STDERR_LINES_KEPT = 20;

export function ffmpegArgs(o: FfmpegSourceOptions): string[] {
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...o.inputOptions,
    ...['-i', o.input, '-an', '-sn', '-dn'],
    // fps before scale: frames we drop are never scaled. Bilinear: cheaper than the bicubic default on a Pi.
    ...['-vf', `fps=${o.fps},scale=${o.width}:${o.height}:flags=bilinear`],
    ...['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
  ];
}

/** Hides the password of rtsp://user:pass@host inputs, which end up in logs and frame origins. */
export function redactInput(input: string): string {
  return input.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/**
 * A camera (USB, RTSP, file) read through an ffmpeg child that writes fixed-size RGB frames to its stdout.
 * Failure policy: when ffmpeg exits or stalls it is logged (warn) and restarted with exponential backoff, and
 * `restarts` counts it; the sink is not told, since the camera is expected back. `sink.ended` is called only
 * when we give up for good: the binary cannot be run at all (ENOENT, EACCES), which no restart can fix.
 */
export class FfmpegSource implements FrameSource {
  private readonly logger: Logger;
  private readonly timing: FfmpegTiming;
  private readonly origin: string;
  private sink: FrameSink | null = null;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private firstFrameAt: number | null = null;
  private lastFrameAt = 0;
  private stderrTail: string[] = [];
  private readonly count: SourceCounters = { captured: 0, skipped: 0, restarts: 0 };

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
    this.timing = { ...DEFAULT_FFMPEG_TIMING, ...timing };
    this.backoffMs = this.timing.backoffMinMs;
    this.origin = redactInput(options.input);
    this.logger = logger.child({ source: 'ffmpeg' });
  }

  /** The running ffmpeg's process id, if one is running (diagnostics and tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(sink: FrameSink): Promise<void> {
    if (this.sink) throw new Error(`camera ${this.camera}: source already started`);
    this.sink = guardSink(sink, this.logger);
    this.spawnChild();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    if (this.child) this.terminate(this.child);
    await this.exited;
  }

  counters(): SourceCounters {
    return { ...this.count };
  }

  private spawnChild(): void {
    const bin = this.options.ffmpegPath ?? 'ffmpeg';
    const args = ffmpegArgs(this.options);
    this.logger.debug({ bin, args: args.map(redactInput) }, 'starting ffmpeg');
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.stderrTail = [];
    this.firstFrameAt = null;
    this.lastFrameAt = performance.now();
    const assembler = new RawFrameAssembler(this.options.width * this.options.height * 3, (data, firstByteAt) =>
      this.onFrame(data, firstByteAt),
    );
    let spawnError: NodeJS.ErrnoException | null = null;
    // Never pause stdout: a pipe left full makes the producer block or tear frames. Slow consumers drop in JS.
    child.stdout!.on('data', (chunk: Buffer) => assembler.push(chunk));
    this.collectStderr(child);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) spawnError = err;
      else this.logger.warn({ err }, 'ffmpeg process error');
    });
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.child = null;
        if (this.stallTimer) clearTimeout(this.stallTimer);
        const lost = assembler.reset();
        if (lost > 0) this.logger.debug({ bytes: lost }, 'partial frame at ffmpeg exit discarded');
        this.onExit(code, signal, spawnError);
        resolve();
      });
    });
    this.armStallWatch(child);
  }

  private onFrame(data: Buffer, firstByteAt: number): void {
    if (this.stopping) return;
    const now = performance.now();
    this.firstFrameAt ??= now;
    this.lastFrameAt = now;
    const frame: Frame = {
      camera: this.camera,
      seq: this.count.captured,
      capturedAt: now,
      wallTime: Date.now(),
      captureMs: now - firstByteAt, // the decode happens inside ffmpeg: this is the time the frame took to arrive
      width: this.options.width,
      height: this.options.height,
      data,
      origin: this.origin,
    };
    this.count.captured++;
    this.sink!.frame(frame);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, spawnError: NodeJS.ErrnoException | null): void {
    if (this.stopping) return;
    if (spawnError) {
      const where = this.options.ffmpegPath ? ` at ${this.options.ffmpegPath}` : '';
      const reason =
        spawnError.code === 'ENOENT'
          ? `ffmpeg not found${where}: install it (apt-get install ffmpeg)`
          : `cannot run ffmpeg${where}: ${spawnError.message}`;
      this.logger.error({ reason }, 'ffmpeg source gave up');
      this.stopping = true;
      this.sink!.ended(reason);
      return;
    }
    const last = this.stderrTail.at(-1);
    const reason = `ffmpeg ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${last ? `: ${last}` : ''}`;
    if (this.firstFrameAt !== null && performance.now() - this.firstFrameAt >= this.timing.stableAfterMs) {
      this.backoffMs = this.timing.backoffMinMs;
    }
    const delay = this.backoffMs;
    this.backoffMs = Math.min(delay * 2, this.timing.backoffMaxMs);
    this.logger.warn({ reason, stderr: this.stderrTail, restartInMs: delay, restarts: this.count.restarts }, 'ffmpeg exited, restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.count.restarts++;
      this.spawnChild();
    }, delay);
  }

  private collectStderr(child: ChildProcess): void {
    let partial = '';
    const keep = (line: string): void => {
      const text = line.trim().slice(0, 500);
      if (!text) return;
      this.logger.debug({ stderr: text }, 'ffmpeg says');
      this.stderrTail.push(text);
      if (this.stderrTail.length > STDERR_LINES_KEPT) this.stderrTail.shift();
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      lines.forEach(keep);
    });
    child.stderr!.on('end', () => keep(partial));
  }

  /** One timer per run, re-armed for the remaining time instead of being reset on every frame. */
  private armStallWatch(child: ChildProcess): void {
    const limit = Math.max(this.timing.stallAfterMs, 3000 / this.options.fps);
    const check = (): void => {
      this.stallTimer = null;
      if (this.child !== child || this.stopping) return;
      const idle = performance.now() - this.lastFrameAt;
      if (idle < limit) {
        this.stallTimer = setTimeout(check, limit - idle);
        return;
      }
      this.logger.warn({ idleMs: Math.round(idle) }, 'no frames from ffmpeg, killing it');
      this.terminate(child);
    };
    this.stallTimer = setTimeout(check, limit);
  }

  private terminate(child: ChildProcess): void {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), this.timing.killAfterMs);
    child.once('close', () => clearTimeout(killer));
  }

  private clearTimers(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.restartTimer = this.stallTimer = null;
  }
}
