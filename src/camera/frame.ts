import type { I420Layout } from '../pixels/i420-layout.js';

/** One decoded picture, as every source hands it to the pipeline. */
export interface Frame {
  /** Camera name (the key under `cameras` in the config). */
  camera: string;
  /** Per-camera frame number, counting every frame the source produced (dropped ones too). */
  seq: number;
  /** performance.now() when the frame was complete in memory. */
  capturedAt: number;
  /** Date.now() at the same moment, for payload timestamps. */
  wallTime: number;
  /** Milliseconds spent reading and decoding this frame. */
  captureMs: number;
  width: number;
  height: number;
  /**
   * The picture's own size when the source decoded it smaller (an image file decoded only as large as its readers
   * need): payloads report this size, so that normalised boxes scale to the picture a user has.
   */
  fullSize?: { width: number; height: number };
  /**
   * Tightly packed RGB, 3 bytes a pixel, row after row: width * height * 3 bytes. A frame that carries `i420` makes
   * it on first access (a full-size conversion the pipeline itself never needs).
   */
  readonly data: Buffer;
  /**
   * The camera's own I420 picture (full range, rows padded as `layout` says), when the source has one (the Pi camera,
   * ffmpeg): the pipeline converts and resizes it to the model input in one pass from here. BT.601 coefficients are
   * used: an HD stream coded in BT.709 comes out with slightly shifted colours, too little to matter to a detector.
   */
  i420?: { data: Uint8Array; layout: I420Layout };
  /** Where the frame came from (a file path, an input URL), to name the culprit in errors. */
  origin: string;
  /**
   * Hands `data` back to the source for reuse (sources that convert into a small buffer pool offer it). Whoever
   * finishes with a frame calls it once nothing reads `data` any more: the pipeline after inference, the slot for
   * frames it drops. `data` must not be read after release. Never calling it is safe: the source then allocates.
   */
  release?(): void;
}

/**
 * What a camera is doing, for a retained status topic: `online` frames flow; `offline` the capture process exited
 * or stalled and is being restarted (or the source was stopped); `error` the camera needs attention: the source gave
 * up, or keeps failing (the reason says whether it still retries).
 */
export type CameraState = 'online' | 'offline' | 'error';

/** What a source tells its owner. Sources never throw at their owner: they report. */
export interface FrameSink {
  frame(frame: Frame): void;
  /** A frame that could not be read or decoded: skipped, counted, named. */
  skipped(origin: string, reason: string): void;
  /** The source has nothing more to give (a non-looping file list, an input that ended) or failed for good. */
  ended(reason: string): void;
  /** The camera's state changed (see CameraState); called once per change, never twice in a row with the same pair. */
  status?(state: CameraState, reason: string): void;
}

export interface SourceCounters {
  /** Frames delivered to the sink. */
  captured: number;
  /** Frames that could not be decoded. */
  skipped: number;
  /** Times the underlying process or reader was restarted. */
  restarts: number;
  /** Times the stall watchdog found no frame for too long and killed the capture process. */
  stalls?: number;
  /** Frames the source itself discarded before the sink saw them (e.g. JPEGs arriving while one is being decoded). */
  dropped?: number;
}

/** The hardware seam for cameras: one implementation per `cameras.<name>.source.type`. */
export interface FrameSource {
  readonly camera: string;
  start(sink: FrameSink): Promise<void>;
  /** Stops capture; resolves when nothing of the source is running any more. */
  stop(): Promise<void>;
  counters(): SourceCounters;
  /**
   * Frames on demand, for sources that can make one now (a synthetic camera): the pipeline calls it just before it
   * takes its next frame, so the frame it gets was made for it rather than having waited in the slot. Periodic
   * cameras do not have it: their frames come when the sensor delivers them.
   */
  pull?(): void;
}
