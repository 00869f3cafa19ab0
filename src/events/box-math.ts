import type { Box } from '../inference/types.js';

/** Intersection over union of two boxes; 0 when either has no area. */
export function iou(a: Box, b: Box): number {
  const w = Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin);
  const h = Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

export function area(b: Box): number {
  return Math.max(0, b.xmax - b.xmin) * Math.max(0, b.ymax - b.ymin);
}

export function centre(b: Box): { x: number; y: number } {
  return { x: (b.xmin + b.xmax) / 2, y: (b.ymin + b.ymax) / 2 };
}

export function shiftBox(b: Box, dx: number, dy: number): Box {
  return { xmin: b.xmin + dx, ymin: b.ymin + dy, xmax: b.xmax + dx, ymax: b.ymax + dy };
}
