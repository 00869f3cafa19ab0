import type { Frame } from '../camera/frame.js';
import type { Box } from '../geometry/box.js';
import { pointInPolygon, type Polygon } from '../geometry/polygon.js';
import { LumaPlane } from './luma-plane.js';

export interface MotionOptions {
  /** Luma difference (0..255) from the background above which a pixel has changed. */
  threshold: number;
  /** Smallest motion kept, as a fraction of the frame's area (after dilation). */
  minArea: number;
  /** Areas where motion is ignored (trees in the wind, a road), normalised polygons like zones. */
  masks: readonly Polygon[];
}

export interface MotionResult {
  /** Where something moved, normalised to the frame; empty when nothing did (or while recalibrating). */
  boxes: Box[];
  /** Fraction of the unmasked picture that changed this frame. */
  changed: number;
  /**
   * Most of the picture changed at once (lights, IR switch, exposure jump): the background was reset to this frame
   * and no motion is reported. True on the frame that caused it; `settling` on the few frames after.
   */
  recalibrated: boolean;
  settling: boolean;
}

/** How fast the background follows the picture where nothing moves, per frame (light changing slowly, shadows). */
export const BACKGROUND_ALPHA = 0.05;
/**
 * Where the picture differs from the background, it is folded in slower: a moving object leaves no ghost trail
 * behind it (which would grow its region), and one that stops still fades in within ~70 frames (its contrast x 0.98^n
 * drops under the threshold).
 */
export const MOVING_ALPHA = 0.02;
/** Faster while settling after a recalibration, so a camera's exposure still adjusting is absorbed in a few frames. */
const SETTLE_ALPHA = 0.5;
/** Frames after a recalibration during which no motion is reported. */
export const SETTLE_FRAMES = 3;
/** A change over this fraction of the unmasked picture is taken for a global one (lights), not for motion. */
export const GLOBAL_CHANGE = 0.5;

/**
 * Motion on one camera: a running-average background of a small grey plane (LumaPlane), the absolute difference to
 * it thresholded, a 3x3 dilation that joins the pieces of one moving object, and connected components turned into
 * boxes, those smaller than minArea dropped. Masked pixels never count. About 58,000 plane pixels for 1080p, so a
 * frame costs well under a millisecond (scripts/motion-bench.ts measures it).
 */
export class MotionDetector {
  readonly plane: LumaPlane;
  private readonly background: Float32Array;
  private readonly changedMap: Uint8Array;
  private readonly dilated: Uint8Array;
  /** The dilation's first pass. */
  private readonly rowPass: Uint8Array;
  private readonly stack: Int32Array;
  /** 1 where motion counts, 0 under a mask. */
  private readonly open: Uint8Array;
  private readonly openCount: number;
  private readonly minPixels: number;
  private primed = false;
  private settleLeft = 0;

  constructor(
    frameWidth: number,
    frameHeight: number,
    private readonly opts: MotionOptions,
  ) {
    if (!(opts.threshold > 0 && opts.threshold < 256)) throw new Error(`motion threshold must be within 1..255, got ${opts.threshold}`);
    this.plane = new LumaPlane(frameWidth, frameHeight);
    const n = this.plane.width * this.plane.height;
    this.background = new Float32Array(n);
    this.changedMap = new Uint8Array(n);
    this.dilated = new Uint8Array(n);
    this.rowPass = new Uint8Array(n);
    this.stack = new Int32Array(n);
    this.open = maskRaster(this.plane.width, this.plane.height, opts.masks);
    this.openCount = this.open.reduce((s, v) => s + v, 0);
    this.minPixels = Math.max(1, opts.minArea * n);
  }

  /** Compares the frame with the background, then folds the frame into it. */
  detect(frame: Pick<Frame, 'width' | 'height' | 'i420' | 'data' | 'origin'>): MotionResult {
    const cur = this.plane.sample(frame);
    const bg = this.background;
    if (!this.primed) {
      for (let i = 0; i < cur.length; i++) bg[i] = cur[i]!;
      this.primed = true;
      return { boxes: [], changed: 0, recalibrated: false, settling: false };
    }
    const { threshold } = this.opts;
    const alpha = this.settleLeft > 0 ? SETTLE_ALPHA : BACKGROUND_ALPHA;
    const slow = this.settleLeft > 0 ? SETTLE_ALPHA : MOVING_ALPHA;
    const changed = this.changedMap;
    const open = this.open;
    const w = this.plane.width;
    let count = 0;
    let rowMin = -1;
    let rowMax = -1;
    for (let y = 0, i = 0; y < this.plane.height; y++) {
      const before = count;
      for (const end = i + w; i < end; i++) {
        const c = cur[i]!;
        const b = bg[i]!;
        const d = c > b ? c - b : b - c;
        const over = d > threshold;
        const hit = over ? open[i]! : 0;
        changed[i] = hit;
        count += hit;
        bg[i] = b + (c - b) * (over ? slow : alpha);
      }
      if (count > before) {
        if (rowMin < 0) rowMin = y;
        rowMax = y;
      }
    }
    const fraction = this.openCount > 0 ? count / this.openCount : 0;
    if (fraction > GLOBAL_CHANGE) {
      for (let i = 0; i < cur.length; i++) bg[i] = cur[i]!;
      const settling = this.settleLeft > 0;
      this.settleLeft = SETTLE_FRAMES;
      return { boxes: [], changed: fraction, recalibrated: !settling, settling };
    }
    if (this.settleLeft > 0) {
      this.settleLeft--;
      return { boxes: [], changed: fraction, recalibrated: false, settling: true };
    }
    if (count === 0) return { boxes: [], changed: 0, recalibrated: false, settling: false };
    // Only the rows that changed (and one either side, for the dilation) are looked at again.
    const top = Math.max(0, rowMin - 1);
    const bottom = Math.min(this.plane.height - 1, rowMax + 1);
    this.dilate(top, bottom);
    return { boxes: this.components(top, bottom), changed: fraction, recalibrated: false, settling: false };
  }

  /**
   * 3x3 dilation of changedMap into dilated over rows top..bottom, as two 3-wide passes (rows into rowMax, then
   * columns). Rows outside the band hold no change, so their dilation is empty and never read.
   */
  private dilate(top: number, bottom: number): void {
    const w = this.plane.width;
    const src = this.changedMap;
    const tmp = this.rowPass;
    for (let y = top; y <= bottom; y++) {
      const row = y * w;
      tmp[row] = src[row]! | src[row + 1]!;
      for (let i = row + 1, end = row + w - 1; i < end; i++) tmp[i] = src[i - 1]! | src[i]! | src[i + 1]!;
      tmp[row + w - 1] = src[row + w - 2]! | src[row + w - 1]!;
    }
    const out = this.dilated;
    for (let y = top; y <= bottom; y++) {
      const row = y * w;
      const up = y > top ? row - w : row;
      const down = y < bottom ? row + w : row;
      for (let x = 0; x < w; x++) out[row + x] = tmp[up + x]! | tmp[row + x]! | tmp[down + x]!;
    }
  }

  /**
   * 4-connected components of the dilated map within rows top..bottom (flood fill with an explicit stack; a visited
   * pixel is set to 2), as normalised boxes.
   */
  private components(top: number, bottom: number): Box[] {
    const { width: w, height: h } = this.plane;
    const map = this.dilated;
    const stack = this.stack;
    const boxes: Box[] = [];
    const first = top * w;
    const last = (bottom + 1) * w;
    for (let start = first; start < last; start++) {
      if (map[start] !== 1) continue;
      let x0 = w;
      let y0 = h;
      let x1 = -1;
      let y1 = -1;
      let pixels = 0;
      let sp = 0;
      stack[sp++] = start;
      map[start] = 2;
      while (sp > 0) {
        const i = stack[--sp]!;
        const x = i % w;
        const y = (i - x) / w;
        pixels++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (x > 0 && map[i - 1] === 1) {
          map[i - 1] = 2;
          stack[sp++] = i - 1;
        }
        if (x < w - 1 && map[i + 1] === 1) {
          map[i + 1] = 2;
          stack[sp++] = i + 1;
        }
        if (y > top && map[i - w] === 1) {
          map[i - w] = 2;
          stack[sp++] = i - w;
        }
        if (y < bottom && map[i + w] === 1) {
          map[i + w] = 2;
          stack[sp++] = i + w;
        }
      }
      if (pixels >= this.minPixels) boxes.push({ xmin: x0 / w, ymin: y0 / h, xmax: (x1 + 1) / w, ymax: (y1 + 1) / h });
    }
    return boxes;
  }
}

/** 1 for each plane pixel whose centre lies outside every mask. */
function maskRaster(w: number, h: number, masks: readonly Polygon[]): Uint8Array {
  const open = new Uint8Array(w * h).fill(1);
  if (masks.length === 0) return open;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = [(x + 0.5) / w, (y + 0.5) / h] as const;
      if (masks.some((m) => pointInPolygon(p, m))) open[y * w + x] = 0;
    }
  }
  return open;
}
