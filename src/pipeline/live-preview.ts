import type { Frame } from '../camera/frame.js';
import type { Detection } from '../inference/types.js';
import { renderSnapshot, type SnapshotOutlines } from '../snapshots/render.js';

export interface Preview {
  camera: string;
  jpeg: Buffer;
  /** When the frame was captured (ISO 8601). */
  ts: string;
}

export interface LivePreviewOptions {
  camera: string;
  maxWidth: number;
  quality: number;
  /** How long a request waits for a fresh frame before it gets the last one (a paused or silent camera). */
  waitMs?: number;
  /** A preview younger than this is served as it is, without waiting for a new frame. */
  freshMs?: number;
}

/**
 * The live page's picture of one camera: the latest processed frame with its boxes, whatever `snapshots.enabled`
 * says. Rendered only on demand: while nobody looks, no frame is copied or encoded; a request asks for the next
 * frame and the page's once-a-second poll costs one JPEG a second (a few ms of libvips, off the event loop).
 */
export class LivePreview {
  private latest: Preview | undefined;
  private latestAt = -Infinity;
  private waiters: ((p: Preview | undefined) => void)[] = [];
  private busy = false;

  constructor(
    private readonly opts: LivePreviewOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True while a request waits for a frame: the pipeline then calls offer() with the next one. */
  get wanted(): boolean {
    return this.waiters.length > 0 && !this.busy;
  }

  /** The latest annotated frame: a fresh one if one comes within waitMs, else the last one (undefined before any). */
  request(): Promise<Preview | undefined> {
    if (this.latest && this.now() - this.latestAt < (this.opts.freshMs ?? 500)) return Promise.resolve(this.latest);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== answer);
        resolve(this.latest);
      }, this.opts.waitMs ?? 1500);
      const answer = (p: Preview | undefined): void => {
        clearTimeout(timer);
        resolve(p);
      };
      this.waiters.push(answer);
    });
  }

  /**
   * A processed frame with its results (frame coordinates), and with motion gating its motion boxes and the regions
   * detected (dashed); copied now, encoded in libvips' threads.
   */
  offer(frame: Frame, results: readonly Detection[], outlines?: SnapshotOutlines): void {
    if (!this.wanted) return;
    this.busy = true;
    const image = { width: frame.width, height: frame.height, data: Buffer.from(frame.data) };
    const boxes = results.filter((r) => r.box).map((r) => ({ box: r.box!, label: r.label, score: r.score }));
    const ts = new Date(frame.wallTime).toISOString();
    renderSnapshot(image, boxes, { maxWidth: this.opts.maxWidth, quality: this.opts.quality }, outlines && { motion: [...(outlines.motion ?? [])], regions: [...(outlines.regions ?? [])] })
      .then((jpeg) => {
        this.latest = { camera: this.opts.camera, jpeg, ts };
        this.latestAt = this.now();
      })
      .catch(() => undefined) // the last preview stays; the page shows its time
      .finally(() => {
        this.busy = false;
        const waiting = this.waiters;
        this.waiters = [];
        for (const w of waiting) w(this.latest);
      });
  }
}
