import type { Frame } from '../camera/frame.js';
import { area, intersection, iou, type Box } from '../geometry/box.js';
import type { Detector, DetectResult } from '../inference/detector.js';
import { prepareCrop, prepareFrame, toFrameBox } from '../inference/preprocess.js';
import type { Detection } from '../inference/types.js';
import { rectToBox, regionAround, type Rect, type RegionOptions } from '../motion/regions.js';
import type { ResizeMode } from '../pixels/resize-plan.js';

/** What one frame's detection ran on, and its answer with every box in frame coordinates. */
export interface RegionDetection {
  /** Settles after every inference of the frame; results merged across regions (frame coordinates). */
  answer: Promise<DetectResult>;
  /** The regions the detector saw, normalised; the whole frame is one region [0, 0, 1, 1]. */
  regions: Box[];
}

/** Same-label boxes overlapping more than this (IoU) are one object seen twice. */
export const MERGE_IOU = 0.5;
/** A box lying this much (of its own area) inside a better one of the same label is a piece of that one. */
export const MERGE_CONTAINED = 0.7;
/** A box this close to a region's inner edge (fraction of the region's side) may be an object cut by it. */
const EDGE_FRACTION = 0.02;

/** The whole frame at the model's input size (resize mode applies); boxes mapped back to the frame. */
export async function detectFullFrame(frame: Frame, detector: Detector, resize: ResizeMode): Promise<RegionDetection> {
  const { inputWidth, inputHeight } = detector.model;
  const prepared = await prepareFrame(frame, inputWidth, inputHeight, resize);
  const answer = detector.detect(prepared.data).then((out) => ({ ...out, results: out.results.map((d) => (d.box ? { ...d, box: toFrameBox(d.box, prepared.geometry) } : d)) }));
  return { answer, regions: [{ xmin: 0, ymin: 0, xmax: 1, ymax: 1 }] };
}

/**
 * Crops of the full-resolution frame, one inference each, sent together (the inference host queues them). An object
 * cut by a region's inner edge is detected again in a region grown towards the cut, while the frame's budget
 * (maxInferences) allows; then duplicates across regions are merged (same label, overlapping or one inside the
 * other: the best score stays). The frame must not be released before `answer` settles (the re-detection reads it).
 */
export async function detectRegions(
  frame: Frame,
  rects: readonly Rect[],
  detector: Detector,
  /** Inferences this frame may cost at most (motion.maxRegions). */
  maxInferences: number,
  /** Only objects scoring this much are worth a second look when cut (the camera's filters.minScore). */
  minScore: number,
): Promise<RegionDetection> {
  const { inputWidth, inputHeight } = detector.model;
  const o: RegionOptions = { frameWidth: frame.width, frameHeight: frame.height, modelWidth: inputWidth, modelHeight: inputHeight, maxRegions: maxInferences };
  const regions = rects.map((r) => rectToBox(r, frame.width, frame.height));
  const run = async (rect: Rect): Promise<{ rect: Rect; out: DetectResult }> => {
    const prepared = await prepareCrop(frame, rect, inputWidth, inputHeight);
    const out = await detector.detect(prepared.data);
    return { rect, out: { ...out, results: out.results.map((d) => (d.box ? { ...d, box: toFrameBox(d.box, prepared.geometry) } : d)) } };
  };
  // All crops are made before the first inference is awaited: the detector gets them back to back.
  const first = rects.map((r) => run(r));
  const answer = (async (): Promise<DetectResult> => {
    const outs = await Promise.all(first);
    let budget = maxInferences - rects.length;
    const cut = outs.flatMap(({ rect, out }) => out.results.filter((d) => d.box && d.score >= minScore && cutByEdge(d.box, rect, frame.width, frame.height)));
    cut.sort((a, b) => b.score - a.score);
    const again: Promise<{ rect: Rect; out: DetectResult }>[] = [];
    const redone: Detection[] = [];
    for (const d of cut) {
      if (budget <= 0) break;
      if (redone.some((r) => r.label === d.label && intersection(r.box!, d.box!) > 0)) continue;
      const rect = regionAround(grownTowardsCut(d.box!, outs.find((x) => x.out.results.includes(d))!.rect, frame.width, frame.height), o);
      again.push(run(rect));
      regions.push(rectToBox(rect, frame.width, frame.height));
      redone.push(d);
      budget--;
    }
    const more = await Promise.all(again);
    const all = [...outs, ...more];
    // A piece re-detected whole in a grown region makes way for it.
    const fresh = more.flatMap((m) => m.out.results);
    const results = all.flatMap((x) => x.out.results).filter((d) => !(redone.includes(d) && fresh.some((f) => f.label === d.label && f.box && intersection(f.box, d.box!) > 0.5 * area(d.box!))));
    return {
      results: mergeAcrossRegions(results),
      inferenceMs: all.reduce((s, x) => s + x.out.inferenceMs, 0),
      ...(all.every((x) => x.out.invokeCpuMs !== undefined) ? { invokeCpuMs: all.reduce((s, x) => s + x.out.invokeCpuMs!, 0) } : {}),
      backend: all[all.length - 1]!.out.backend,
    };
  })();
  answer.catch(() => undefined); // the caller handles it; this keeps an early rejection from being reported meanwhile
  return { answer, regions };
}

/**
 * Class-aware non-maximum suppression across regions: best score first; a box is dropped when a kept box of the same
 * label overlaps it by more than MERGE_IOU, or holds MERGE_CONTAINED of it (a part seen in a second region).
 * Results without a box (a classifier's) are kept as they are.
 */
export function mergeAcrossRegions(results: readonly Detection[]): Detection[] {
  const sorted = [...results].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (!d.box) {
      if (!kept.some((k) => !k.box && k.classId === d.classId)) kept.push(d);
      continue;
    }
    const dup = kept.some((k) => k.box && k.label === d.label && (iou(k.box, d.box!) > MERGE_IOU || intersection(k.box, d.box!) > MERGE_CONTAINED * Math.min(area(d.box!), area(k.box))));
    if (!dup) kept.push(d);
  }
  return kept;
}

/** Whether a box (frame coordinates) touches a side of its region that is not also the frame's edge. */
export function cutByEdge(box: Box, rect: Rect, frameW: number, frameH: number): boolean {
  const ex = EDGE_FRACTION * rect.w;
  const ey = EDGE_FRACTION * rect.h;
  const x0 = box.xmin * frameW;
  const x1 = box.xmax * frameW;
  const y0 = box.ymin * frameH;
  const y1 = box.ymax * frameH;
  return (
    (rect.x > 0 && x0 <= rect.x + ex) ||
    (rect.y > 0 && y0 <= rect.y + ey) ||
    (rect.x + rect.w < frameW && x1 >= rect.x + rect.w - ex) ||
    (rect.y + rect.h < frameH && y1 >= rect.y + rect.h - ey)
  );
}

/** The box extended by its own size beyond each side where the region cut it: where the rest of the object must be. */
function grownTowardsCut(box: Box, rect: Rect, frameW: number, frameH: number): Box {
  const w = box.xmax - box.xmin;
  const h = box.ymax - box.ymin;
  const left = rect.x / frameW;
  const top = rect.y / frameH;
  const right = (rect.x + rect.w) / frameW;
  const bottom = (rect.y + rect.h) / frameH;
  const ex = (EDGE_FRACTION * rect.w) / frameW;
  const ey = (EDGE_FRACTION * rect.h) / frameH;
  return {
    xmin: Math.max(0, box.xmin <= left + ex && rect.x > 0 ? box.xmin - w : box.xmin),
    ymin: Math.max(0, box.ymin <= top + ey && rect.y > 0 ? box.ymin - h : box.ymin),
    xmax: Math.min(1, box.xmax >= right - ex && rect.x + rect.w < frameW ? box.xmax + w : box.xmax),
    ymax: Math.min(1, box.ymax >= bottom - ey && rect.y + rect.h < frameH ? box.ymax + h : box.ymax),
  };
}
