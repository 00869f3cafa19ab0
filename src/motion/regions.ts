import type { Box } from '../geometry/box.js';

/** A rectangle of the full-resolution frame, in whole pixels. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface RegionOptions {
  frameWidth: number;
  frameHeight: number;
  /** The model's input size: a region is never smaller (a smaller crop would only be upscaled). */
  modelWidth: number;
  modelHeight: number;
  /** At most this many regions; more are merged, the closest first. */
  maxRegions: number;
}

/** Room around an object or a motion box, per side, as a fraction of its larger side: context helps the detector. */
export const REGION_MARGIN = 0.25;

/**
 * Regions to run the detector on: one around each box (motion or a tracked object) with the model's aspect ratio
 * (square for the SSDs), at least the model's input size, inside the frame; regions that overlap are merged into one
 * around both (unless that would shrink the smaller one's picture more than MERGE_SCALE times), and while there are
 * more than maxRegions the pair whose merged region is smallest is merged.
 */
export function planRegions(boxes: readonly Box[], o: RegionOptions): Rect[] {
  let rects = boxes.map((b) => regionAround(b, o));
  rects = mergeOverlapping(rects, o);
  while (rects.length > Math.max(1, o.maxRegions)) {
    let best: [number, number, Rect] | undefined;
    for (let i = 0; i < rects.length; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const u = fitAspect(union(rects[i]!, rects[j]!), o);
        if (!best || u.w * u.h < best[2].w * best[2].h) best = [i, j, u];
      }
    }
    const [i, j, u] = best!;
    rects = rects.filter((_, k) => k !== i && k !== j);
    rects.push(u);
    rects = mergeOverlapping(rects, o);
  }
  return rects;
}

/** The region for one normalised box: centred on it, REGION_MARGIN around it, the model's shape, inside the frame. */
export function regionAround(box: Box, o: RegionOptions, margin = REGION_MARGIN): Rect {
  const x0 = box.xmin * o.frameWidth;
  const y0 = box.ymin * o.frameHeight;
  const bw = (box.xmax - box.xmin) * o.frameWidth;
  const bh = (box.ymax - box.ymin) * o.frameHeight;
  const pad = Math.max(bw, bh) * margin;
  return fitAspect({ x: x0 - pad, y: y0 - pad, w: bw + 2 * pad, h: bh + 2 * pad }, o);
}

/**
 * Grows a rectangle about its centre to the model's aspect ratio and at least the model's size, then moves it inside
 * the frame. When it cannot fit (wider or taller than the frame), it is cut to the frame: the detector then sees it
 * stretched, as it sees a whole frame.
 */
export function fitAspect(r: Rect, o: RegionOptions): Rect {
  const aspect = o.modelWidth / o.modelHeight;
  let w = Math.max(r.w, r.h * aspect, o.modelWidth);
  let h = Math.max(r.h, r.w / aspect, o.modelHeight);
  w = Math.max(w, h * aspect);
  h = w / aspect;
  w = Math.min(Math.round(w), o.frameWidth);
  h = Math.min(Math.round(h), o.frameHeight);
  const cx = r.x + r.w / 2;
  const cy = r.y + r.h / 2;
  const x = Math.min(Math.max(0, Math.round(cx - w / 2)), o.frameWidth - w);
  const y = Math.min(Math.max(0, Math.round(cy - h / 2)), o.frameHeight - h);
  return { x, y, w, h };
}

function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

export function rectsOverlap(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Overlapping regions are merged when the merged one is at most this many times the smaller one's size: further, and
 * the smaller one's object would lose that much resolution (a bird moving inside a large tracked object's region):
 * both are kept, and the detector's duplicates are merged afterwards.
 */
export const MERGE_SCALE = 2;

/** Merges overlapping regions until none that may be merged overlap (a merge can make a region reach a third one). */
function mergeOverlapping(rects: Rect[], o: RegionOptions): Rect[] {
  const out = [...rects];
  const side = (r: Rect): number => Math.max(r.w, r.h);
  for (let merged = true; merged; ) {
    merged = false;
    outer: for (let i = 0; i < out.length; i++) {
      for (let j = i + 1; j < out.length; j++) {
        if (!rectsOverlap(out[i]!, out[j]!)) continue;
        const u = fitAspect(union(out[i]!, out[j]!), o);
        if (side(u) <= MERGE_SCALE * Math.min(side(out[i]!), side(out[j]!))) {
          out.splice(j, 1);
          out[i] = u;
          merged = true;
          break outer;
        }
      }
    }
  }
  return out;
}

/** A region as a normalised box (for payloads and the live page). */
export function rectToBox(r: Rect, frameWidth: number, frameHeight: number): Box {
  return { xmin: r.x / frameWidth, ymin: r.y / frameHeight, xmax: (r.x + r.w) / frameWidth, ymax: (r.y + r.h) / frameHeight };
}

/** True when the region is the whole frame (or as good as: the detector would see the same picture). */
export function coversFrame(r: Rect, frameWidth: number, frameHeight: number): boolean {
  return r.w >= frameWidth && r.h >= frameHeight;
}
