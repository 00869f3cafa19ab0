/** Polygons normalised to the frame: the geometry zones, object masks and motion masks share. */

/** [x, y] normalised to the frame (0..1, origin top left, y grows downwards). */
export type Point = readonly [number, number];

/** At least three points; closed implicitly (the last point joins the first). Concave shapes are fine. */
export type Polygon = readonly Point[];

/** Distance under which a point counts as lying on an edge (normalised units: far below one pixel). */
const EDGE_EPSILON = 1e-9;

/**
 * Even-odd ray casting (a ray towards +x), so concave polygons work.
 *
 * Edge handling: a point on an edge or a vertex (within EDGE_EPSILON) counts as INSIDE. Plain ray casting
 * would put points on the bottom and right edges outside, and a box touching the bottom of the frame
 * (ymax = 1) would then never be in a zone drawn down to the frame edge. The consequence: two zones that
 * share an edge both contain a point lying exactly on it, and a mask covers its own border.
 * Self-intersecting polygons follow the even-odd rule (validatePolygon rejects them for configs).
 */
export function pointInPolygon(p: Point, poly: Polygon): boolean {
  const [x, y] = p;
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i] as Point;
    const b = poly[j] as Point;
    if (onSegment(p, a, b)) return true;
    // Half-open rule (a vertex belongs to the edge above it) so a ray through a vertex is counted once.
    if (a[1] > y !== b[1] > y) {
      const xCross = a[0] + ((y - a[1]) * (b[0] - a[0])) / (b[1] - a[1]);
      if (x < xCross) inside = !inside;
    }
  }
  return inside;
}

/**
 * The problem with a config value meant as a polygon, or undefined when it is one. Messages have no subject
 * so the caller can prefix the key: `zone "door" ${problem}`. Repeating the first point at the end is allowed.
 */
export function validatePolygon(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length < 3) return 'must be a list of at least 3 [x, y] points';
  for (const p of value as unknown[]) {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((c) => typeof c === 'number' && Number.isFinite(c) && c >= 0 && c <= 1)) {
      return `has a point ${JSON.stringify(p)} that is not [x, y] with 0 <= x, y <= 1 (normalised to the frame)`;
    }
  }
  const pts = distinctRing(value as Point[]);
  if (pts.length < 3) return 'must have at least 3 distinct points';
  const crossing = selfIntersection(pts);
  if (crossing) return `crosses itself (edge ${crossing[0] + 1} crosses edge ${crossing[1] + 1}); list the points in order around the shape`;
  if (Math.abs(signedArea(pts)) < EDGE_EPSILON) return 'has no area (its points lie on one line)';
  return undefined;
}

function onSegment(p: Point, a: Point, b: Point): boolean {
  const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  if (Math.abs(cross) > EDGE_EPSILON * Math.max(len, 1)) return false;
  return (
    p[0] >= Math.min(a[0], b[0]) - EDGE_EPSILON &&
    p[0] <= Math.max(a[0], b[0]) + EDGE_EPSILON &&
    p[1] >= Math.min(a[1], b[1]) - EDGE_EPSILON &&
    p[1] <= Math.max(a[1], b[1]) + EDGE_EPSILON
  );
}

/** Drops consecutive repeats, including a closing point equal to the first. */
function distinctRing(points: Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  while (out.length > 1) {
    const first = out[0] as Point;
    const last = out[out.length - 1] as Point;
    if (first[0] !== last[0] || first[1] !== last[1]) break;
    out.pop();
  }
  return out;
}

function signedArea(pts: Point[]): number {
  let sum = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const a = pts[i] as Point;
    const b = pts[j] as Point;
    sum += (b[0] - a[0]) * (b[1] + a[1]);
  }
  return sum / 2;
}

/** First pair of non-adjacent edges that touch or cross (edge i runs from point i to point i+1). O(n²): configs are small. */
function selfIntersection(pts: Point[]): [number, number] | undefined {
  const n = pts.length;
  const at = (i: number): Point => pts[i % n] as Point;
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue; // adjacent through the closing edge
      if (segmentsTouch(at(i), at(i + 1), at(j), at(j + 1))) return [i, j];
    }
  }
  return undefined;
}

function segmentsTouch(a: Point, b: Point, c: Point, d: Point): boolean {
  const orient = (p: Point, q: Point, r: Point): number => Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (o1 === 0 && onSegment(c, a, b)) || (o2 === 0 && onSegment(d, a, b)) || (o3 === 0 && onSegment(a, c, d)) || (o4 === 0 && onSegment(b, c, d));
}
