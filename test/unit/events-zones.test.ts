import { describe, expect, it } from 'vitest';
import { bottomCentre, isMasked, pointInPolygon, validatePolygon, zonesOf, type Point, type Polygon } from '../../src/events/zones.js';

// L: a vertical bar (x 0.1..0.4, y 0.1..0.9) plus a foot (x 0.4..0.9, y 0.6..0.9); the notch above the foot is outside.
const L: Polygon = [[0.1, 0.1], [0.4, 0.1], [0.4, 0.6], [0.9, 0.6], [0.9, 0.9], [0.1, 0.9]];
const inL = ([x, y]: Point): boolean => (x > 0.1 && x < 0.4 && y > 0.1 && y < 0.9) || (x > 0.1 && x < 0.9 && y > 0.6 && y < 0.9);

// U: two arms (x 0.1..0.3 and 0.7..0.9, y 0.1..0.9) joined by a base (y 0.7..0.9); the gap between the arms is outside.
const U: Polygon = [[0.1, 0.1], [0.3, 0.1], [0.3, 0.7], [0.7, 0.7], [0.7, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]];
const inU = ([x, y]: Point): boolean =>
  y > 0.1 && y < 0.9 && ((x > 0.1 && x < 0.3) || (x > 0.7 && x < 0.9) || (x > 0.1 && x < 0.9 && y > 0.7));

const box = (xmin: number, ymin: number, xmax: number, ymax: number) => ({ xmin, ymin, xmax, ymax });

describe('pointInPolygon', () => {
  it('handles the L shape: bar, foot and the notch between them', () => {
    expect(pointInPolygon([0.2, 0.3], L)).toBe(true);
    expect(pointInPolygon([0.7, 0.8], L)).toBe(true);
    expect(pointInPolygon([0.7, 0.3], L)).toBe(false); // the notch
    expect(pointInPolygon([0.95, 0.8], L)).toBe(false);
    expect(pointInPolygon([0.2, 0.95], L)).toBe(false);
  });

  it('handles the U shape: both arms, the base, and the gap between the arms', () => {
    expect(pointInPolygon([0.2, 0.4], U)).toBe(true);
    expect(pointInPolygon([0.8, 0.4], U)).toBe(true);
    expect(pointInPolygon([0.5, 0.8], U)).toBe(true);
    expect(pointInPolygon([0.5, 0.4], U)).toBe(false); // the gap
    expect(pointInPolygon([0.05, 0.4], U)).toBe(false); // ray crosses four edges
  });

  it('counts a ray through vertices once', () => {
    // Rays along y = 0.6 (L's inner corner) and y = 0.1 (U's top vertices).
    expect(pointInPolygon([0.2, 0.6], L)).toBe(true);
    expect(pointInPolygon([0.05, 0.6], L)).toBe(false);
    expect(pointInPolygon([0.5, 0.1], U)).toBe(false);
    expect(pointInPolygon([0.05, 0.1], U)).toBe(false);
    expect(pointInPolygon([0.5, 0.7 + 1e-6], U)).toBe(true);
  });

  it('puts points on edges and vertices inside', () => {
    expect(pointInPolygon([0.4, 0.3], L)).toBe(true); // inner vertical edge
    expect(pointInPolygon([0.6, 0.6], L)).toBe(true); // inner horizontal edge
    expect(pointInPolygon([0.5, 0.9], L)).toBe(true); // bottom edge
    expect(pointInPolygon([0.9, 0.75], L)).toBe(true); // right edge
    expect(pointInPolygon([0.4, 0.6], L)).toBe(true); // reflex vertex
    expect(pointInPolygon([0.5, 0.7], U)).toBe(true);
    expect(pointInPolygon([0.95, 0.6], L)).toBe(false); // on an edge's line, past its end
  });

  it('agrees with the shapes as unions of rectangles on a grid', () => {
    for (const [poly, inside] of [[L, inL], [U, inU]] as const) {
      let checked = 0;
      for (let i = 0; i <= 100; i++) {
        for (let j = 0; j <= 100; j++) {
          const p: Point = [i / 100 + 0.003, j / 100 + 0.007]; // off every edge
          expect(pointInPolygon(p, poly), `${p}`).toBe(inside(p));
          checked++;
        }
      }
      expect(checked).toBe(101 * 101);
    }
  });
});

describe('zonesOf and isMasked', () => {
  const zones = { door: L, yard: U, all: [[0, 0], [1, 0], [1, 1], [0, 1]] as Polygon };

  it('uses the bottom centre of the box', () => {
    expect(bottomCentre(box(0.2, 0.1, 0.6, 0.5))).toEqual([0.4, 0.5]);
    // Box reaches deep into the L's bar, but its bottom centre (0.7, 0.3) is in the notch.
    expect(zonesOf(box(0.5, 0.05, 0.9, 0.3), { door: L })).toEqual([]);
    // Box is mostly above the foot, but it stands on it: bottom centre (0.7, 0.8).
    expect(zonesOf(box(0.6, 0.0, 0.8, 0.8), { door: L })).toEqual(['door']);
    // Box covers the U's gap, bottom centre (0.5, 0.8) is on the base.
    expect(zonesOf(box(0.35, 0.2, 0.65, 0.8), { yard: U })).toEqual(['yard']);
    expect(zonesOf(box(0.35, 0.2, 0.65, 0.5), { yard: U })).toEqual([]);
  });

  it('returns every zone holding the point, in config order', () => {
    expect(zonesOf(box(0.6, 0.5, 0.8, 0.8), zones)).toEqual(['door', 'yard', 'all']);
    expect(zonesOf(box(0.45, 0.2, 0.55, 0.4), zones)).toEqual(['all']);
  });

  it('keeps an object touching the bottom of the frame in a zone drawn to the frame edge', () => {
    expect(zonesOf(box(0.3, 0.5, 0.5, 1), zones)).toEqual(['all']);
  });

  it('masks by bottom centre', () => {
    const masks: Polygon[] = [[[0, 0], [1, 0], [1, 0.3], [0, 0.3]]]; // top strip (sky, trees)
    expect(isMasked(box(0.1, 0.0, 0.2, 0.25), masks)).toBe(true);
    expect(isMasked(box(0.1, 0.0, 0.2, 0.6), masks)).toBe(false); // reaches into the strip but stands below it
    expect(isMasked(box(0.1, 0.0, 0.2, 0.25), [])).toBe(false);
  });
});

describe('validatePolygon', () => {
  it('accepts concave polygons and a repeated closing point', () => {
    expect(validatePolygon(L)).toBeUndefined();
    expect(validatePolygon(U)).toBeUndefined();
    expect(validatePolygon([[0, 0], [1, 0], [0, 1], [0, 0]])).toBeUndefined();
  });

  it('names the problem', () => {
    expect(validatePolygon('nope')).toMatch(/at least 3/);
    expect(validatePolygon([[0, 0], [1, 1]])).toMatch(/at least 3/);
    expect(validatePolygon([[0, 0], [1, 0], [0, 1.5]])).toMatch(/\[0,1\.5\]/);
    expect(validatePolygon([[0, 0], [1, 0], [0, Number.NaN]])).toMatch(/not \[x, y\]/);
    expect(validatePolygon([[0, 0], [1], [0, 1]])).toMatch(/not \[x, y\]/);
    expect(validatePolygon([[0, 0], [0, 0], [1, 1], [1, 1]])).toMatch(/3 distinct/);
    expect(validatePolygon([[0, 0], [0.5, 0.5], [1, 1]])).toMatch(/no area/);
    expect(validatePolygon([[0, 0], [1, 1], [1, 0], [0, 1]])).toMatch(/crosses itself/); // bow tie
  });
});
