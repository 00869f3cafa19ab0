import type { Box } from '../geometry/box.js';
import { pointInPolygon, type Point, type Polygon } from '../geometry/polygon.js';

export { pointInPolygon, validatePolygon, type Point, type Polygon } from '../geometry/polygon.js';

/** The point that decides where an object is: where it stands, not where its box reaches. */
export function bottomCentre(box: Box): Point {
  return [(box.xmin + box.xmax) / 2, box.ymax];
}

/** Names of the zones holding the box's bottom centre, in the zones' own (config) order. */
export function zonesOf(box: Box, zones: Readonly<Record<string, Polygon>>): string[] {
  const p = bottomCentre(box);
  return Object.entries(zones)
    .filter(([, poly]) => pointInPolygon(p, poly))
    .map(([name]) => name);
}

/** True when the box's bottom centre lies in any mask: such a detection is ignored by tracking. */
export function isMasked(box: Box, masks: readonly Polygon[]): boolean {
  const p = bottomCentre(box);
  return masks.some((poly) => pointInPolygon(p, poly));
}
