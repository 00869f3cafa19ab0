import { stat } from 'node:fs/promises';
import type { Logger } from '../system/logger.js';
import { DEFAULT_MAX_PIXELS, decodeImageFile, ImageDecodeError, ImageTooLargeError, type DecodedImage, type DecodeSize } from './decode.js';
import type { CameraState, Frame, FrameSink, FrameSource, SourceCounters } from './frame.js';
import { IMAGE_EXTENSIONS, listImageFiles } from './image-files.js';
import { guardSink } from './sink-guard.js';

export interface FilesSourceOptions {
  /** A file, a directory (its images, sorted by name), or a pattern with `*` / `?` in the file name. */
  path: string;
  /** Images a second; 0: on demand, one image each time the pipeline takes a frame (every file, none dropped). */
  fps: number;
  /** Start again at the first file after the last one; otherwise the source ends. */
  loop: boolean;
  /** Frames each image is shown for, in a row (default 1): a still scene, so tracking sees objects stay. */
  repeat?: number;
  /** Images with more pixels are refused from their header, never decoded (default DEFAULT_MAX_PIXELS, 50 MP). */
  maxPixels?: number;
  /**
   * Decode each picture only as large as this (both sides at least this, aspect kept; JPEG shrinks on load): the
   * largest size what reads the frames needs (model input, snapshots, live page). Default: full size.
   */
  decodeAtLeast?: DecodeSize;
}

/**
 * Plays still images as a camera: for tests, demos, and checking a model on known pictures. At a frame rate, on a
 * timer (frames inference has no time for are dropped and counted, as with a camera); at fps 0, on demand: the
 * pipeline pulls each image when it is ready for one, so every file is inferred once a pass and none is decoded in vain.
 * On demand, the next two images are decoded while the pipeline works on this one (off the event loop, on libuv's
 * threads): decoding then overlaps inference instead of adding to it, and with a decode about as long as an inference
 * (a camera JPEG and a Coral model) one decode waiting for a core does not leave the detector idle.
 */
export class FilesSource implements FrameSource {
  /** Only on demand (fps 0): a timed source's frames come from its timer. */
  readonly pull?: () => void;
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private files: string[] = [];
  private sink: Required<FrameSink> | null = null;
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  /** On demand: the next picture, decoded ahead of the pull that will take it. */
  private ready: Frame | null = null;
  /** On demand: the picture after `ready`, already decoding (started with it; used if that file comes next). */
  private prefetch: { path: string; result: Promise<DecodedImage> } | null = null;
  /** On demand: the list ended while a picture was still waiting to be taken; ends once it is. */
  private pendingEnd: { reason: string; state: CameraState } | undefined;
  private next = 0;
  /** Times the current file has been shown in a row (repeat). */
  private shown = 0;
  private readonly repeat: number;
  private failuresInARow = 0;
  private deliveredThisPass = 0;
  private skippedThisPass = 0;
  private dueAt = 0;
  private readonly count: SourceCounters = { captured: 0, skipped: 0, restarts: 0 };
  private readonly maxPixels: number;
  /**
   * Files refused as too large, by path, with the size and mtime they had: counted and reported once, and not read
   * again while unchanged, so a folder of them costs no memory and makes no log line per pass.
   */
  private readonly refused = new Map<string, string>();
  /** The last status reported (see setStatus): Home Assistant shows a camera's entities only while it is online. */
  private state: CameraState | undefined;
  private stateReason = '';

  constructor(
    readonly camera: string,
    private readonly options: FilesSourceOptions,
    logger: Logger,
  ) {
    if (!(options.fps >= 0) || !Number.isFinite(options.fps)) throw new Error(`camera ${camera}: fps must be >= 0, got ${options.fps}`);
    this.intervalMs = options.fps > 0 ? 1000 / options.fps : 0;
    this.maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    if (!(this.maxPixels > 0)) throw new Error(`camera ${camera}: maxPixels must be > 0, got ${options.maxPixels}`);
    this.repeat = options.repeat ?? 1;
    if (!Number.isInteger(this.repeat) || this.repeat < 1) throw new Error(`camera ${camera}: repeat must be an integer >= 1, got ${options.repeat}`);
    if (options.fps === 0) this.pull = () => this.onDemand();
    this.logger = logger.child({ source: 'files' });
  }

  async start(sink: FrameSink): Promise<void> {
    if (this.started) throw new Error(`camera ${this.camera}: source already started`);
    this.started = true;
    const files = await listImageFiles(this.options.path);
    if (files.length === 0) {
      throw new Error(`no image files (${IMAGE_EXTENSIONS.join(' ')}) found at ${this.options.path}`);
    }
    if (this.stopped) return;
    this.files = files;
    this.sink = guardSink(sink, this.logger);
    this.logger.info({ path: this.options.path, files: files.length, fps: this.options.fps, loop: this.options.loop }, 'files source started');
    this.dueAt = performance.now();
    // On demand, frames wait for pulls; one made before the files were listed is served now.
    if (this.pull) this.serve();
    else this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.prefetch?.result.catch(() => undefined);
    this.prefetch = null;
    if (this.ready) this.count.dropped = (this.count.dropped ?? 0) + 1; // decoded ahead, never taken
    this.ready = null;
    if (this.state === 'online') this.setStatus('offline', 'source stopped');
  }

  counters(): SourceCounters {
    return { ...this.count };
  }

  /** Pulls not yet served: one image each, read one after the other (a pull may come before start() or mid-read). */
  private demand = 0;

  private onDemand(): void {
    this.demand++;
    this.serve();
  }

  /** Hands the picture decoded ahead to a waiting pull, then decodes the next one ahead (one read at a time). */
  private serve(): void {
    if (this.stopped || !this.sink) return;
    if (this.ready && this.demand > 0) {
      const frame = this.ready;
      this.ready = null;
      this.demand--;
      this.sink.frame(frame);
    }
    if (!this.ready && this.pendingEnd) {
      const { reason, state } = this.pendingEnd;
      this.pendingEnd = undefined;
      return this.end(reason, state);
    }
    if (this.inFlight || this.ready || this.pendingEnd) return;
    this.inFlight = this.tick().finally(() => {
      this.inFlight = null;
      this.serve();
    });
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.inFlight = this.tick().finally(() => (this.inFlight = null));
    }, Math.max(0, this.dueAt - performance.now()));
  }

  /** One frame slot: the next file that decodes; unreadable files are reported and the next one tried at once. */
  private async tick(): Promise<void> {
    for (;;) {
      if (this.next >= this.files.length) {
        if (!this.options.loop) return this.end(this.endOfListReason());
        this.next = 0;
        this.deliveredThisPass = this.skippedThisPass = 0;
      }
      const first = this.shown === 0;
      const delivered = await this.deliver(this.files[this.next]!, first);
      // The next file after `repeat` showings of this one, or at once when it failed.
      if (!delivered || ++this.shown >= this.repeat) {
        this.next++;
        this.shown = 0;
      }
      if (this.stopped) return;
      if (delivered) break;
      // Every file failed since the last good one: a full pass of failures would otherwise spin forever.
      if (this.failuresInARow >= this.files.length) {
        return this.end(`all ${this.files.length} files failed to decode (${this.options.path})`, 'error');
      }
    }
    if (this.next >= this.files.length && !this.options.loop) return this.end(this.endOfListReason());
    if (this.pull) return; // on demand: the next pull reads the next file
    // Absolute due times keep the rate exact over hours; after a long stall we re-anchor instead of bursting.
    this.dueAt += this.intervalMs;
    const now = performance.now();
    if (now - this.dueAt > this.intervalMs) this.dueAt = now;
    this.arm();
  }

  private async deliver(path: string, firstShowing = true): Promise<boolean> {
    const startedAt = performance.now();
    // Only a file refused before needs its identity now (a stat less per frame for all the others).
    const identity = this.refused.has(path) ? await fileIdentity(path) : null;
    if (this.stopped) return true;
    if (identity !== null && this.refused.get(path) === identity) {
      // Known to be too large and unchanged: already counted and reported. It still fails this pass.
      this.skippedThisPass++;
      this.failuresInARow++;
      return false;
    }
    try {
      const decoding = this.decode(path);
      if (this.pull) this.prefetchAfter(path);
      const image = await decoding;
      if (this.stopped) return true;
      this.refused.delete(path);
      const capturedAt = performance.now();
      const frame: Frame = {
        camera: this.camera,
        seq: this.count.captured,
        capturedAt,
        wallTime: Date.now(),
        captureMs: capturedAt - startedAt,
        width: image.width,
        height: image.height,
        ...(image.fullSize ? { fullSize: image.fullSize } : {}),
        data: image.data,
        origin: path,
      };
      this.count.captured++;
      if (firstShowing) this.deliveredThisPass++;
      this.failuresInARow = 0;
      this.setStatus('online', 'frames flowing');
      if (this.pull) this.ready = frame; // taken by the next pull (serve)
      else this.sink!.frame(frame);
      return true;
    } catch (err) {
      if (this.stopped) return false;
      const reason = err instanceof ImageDecodeError ? err.reason : String(err);
      this.count.skipped++;
      this.skippedThisPass++;
      this.failuresInARow++;
      if (err instanceof ImageTooLargeError) {
        const now = identity ?? (await fileIdentity(path));
        if (now !== null) this.refused.set(path, now);
      }
      this.logger.debug({ file: path, reason }, 'image skipped');
      this.sink!.skipped(path, reason);
      return false;
    }
  }

  /** The picture of `path`: the one decoding ahead when it is that file, else decoded now. */
  private decode(path: string): Promise<DecodedImage> {
    const ahead = this.prefetch;
    this.prefetch = null;
    if (ahead?.path === path) return ahead.result;
    return decodeImageFile(path, this.maxPixels, this.options.decodeAtLeast);
  }

  /**
   * Starts decoding the file shown after `path` if it goes as planned (the next file, or the same one while it repeats:
   * then nothing, the list does not move). A file refused before is left to deliver(), which checks it first.
   */
  private prefetchAfter(path: string): void {
    if (this.shown + 1 < this.repeat) return;
    let i = this.next + 1;
    if (i >= this.files.length) {
      if (!this.options.loop) return;
      i = 0;
    }
    const upcoming = this.files[i]!;
    if (upcoming === path || this.refused.has(upcoming)) return;
    const result = decodeImageFile(upcoming, this.maxPixels, this.options.decodeAtLeast);
    result.catch(() => undefined); // a failure is reported when the file's turn comes (or never, if it does not)
    this.prefetch = { path: upcoming, result };
  }

  private endOfListReason(): string {
    if (this.skippedThisPass === 0) return `all ${this.files.length} files delivered`;
    return `${this.deliveredThisPass} of ${this.files.length} files delivered, ${this.skippedThisPass} skipped`;
  }

  /** A list played to its end is `offline` (nothing more will come); one whose every file fails needs attention. */
  private end(reason: string, state: CameraState = 'offline'): void {
    if (this.ready) {
      this.pendingEnd = { reason, state }; // after the picture decoded ahead is taken
      return;
    }
    this.stopped = true;
    this.logger.info({ reason }, 'files source ended');
    this.setStatus(state, reason);
    this.sink!.ended(reason);
  }

  /** Reports a change of state (the sink contract: never the same state and reason twice in a row). */
  private setStatus(state: CameraState, reason: string): void {
    if (state === this.state && reason === this.stateReason) return;
    this.state = state;
    this.stateReason = reason;
    this.sink?.status(state, reason);
  }
}

/** Size and modification time: a refused file that is replaced (a new picture under the same name) is read again. */
async function fileIdentity(path: string): Promise<string | null> {
  try {
    const info = await stat(path);
    return `${info.size}:${info.mtimeMs}`;
  } catch {
    return null; // unreadable: the decode reports why
  }
}
