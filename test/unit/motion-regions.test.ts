import { describe, expect, it } from 'vitest';
import { fitAspect, planRegions, rectToBox, regionAround, type RegionOptions } from '../../src/motion/regions.js';
import { RegionPlanner, RECHECK_SEC } from '../../src/motion/region-planner.js';
import { i420Layout } from '../../src/pixels/i420-layout.js';

const o: RegionOptions = { frameWidth: 1920, frameHeight: 1080, modelWidth: 300, modelHeight: 300, maxRegions: 4 };
const px = (x0: number, y0: number, x1: number, y1: number) => ({ xmin: x0 / 1920, ymin: y0 / 1080, xmax: x1 / 1920, ymax: y1 / 1080 });

describe('regions', () => {
  it('a small box gets a square region of the model size, centred on it', () => {
    const r = regionAround(px(900, 500, 960, 560), o);
    expect(r).toEqual({ x: 780, y: 380, w: 300, h: 300 });
  });

  it('a big box gets a square region with a margin around it', () => {
    const r = regionAround(px(800, 400, 1200, 600), o);
    expect(r.w).toBe(r.h);
    expect(r.w).toBe(600); // 400 + 2 * 0.25 * 400
    expect(r.x).toBeLessThanOrEqual(800);
    expect(r.x + r.w).toBeGreaterThanOrEqual(1200);
  });

  it('a region near the edge is moved inside the frame, never cut', () => {
    const r = regionAround(px(0, 1040, 40, 1080), o);
    expect(r).toEqual({ x: 0, y: 780, w: 300, h: 300 });
  });

  it('a region taller than the frame is cut to it', () => {
    const r = fitAspect({ x: 0, y: -100, w: 1500, h: 1400 }, o);
    expect(r.h).toBe(1080);
    expect(r.y).toBe(0);
  });

  it('merges overlapping regions and keeps separate ones apart', () => {
    const rs = planRegions([px(900, 500, 960, 560), px(980, 500, 1040, 560), px(100, 100, 160, 160)], o);
    expect(rs).toHaveLength(2);
    const merged = rs.find((r) => r.x > 500)!;
    expect(merged.x).toBeLessThanOrEqual(900);
    expect(merged.x + merged.w).toBeGreaterThanOrEqual(1040);
    expect(merged.w).toBe(merged.h);
  });

  it('keeps a small region apart from a big one it overlaps: merged, its object would lose most of its pixels', () => {
    const rs = planRegions([px(100, 50, 1800, 1050), px(900, 500, 960, 560)], o);
    expect(rs).toHaveLength(2);
    expect(rs.some((r) => r.w === 300)).toBe(true);
  });

  it('caps the regions at maxRegions, merging the closest', () => {
    const boxes = [px(0, 0, 50, 50), px(600, 0, 650, 50), px(1200, 0, 1250, 50), px(1800, 0, 1850, 50), px(0, 900, 50, 950)];
    const rs = planRegions(boxes, { ...o, maxRegions: 2 });
    expect(rs).toHaveLength(2);
    for (const b of boxes) {
      const cx = ((b.xmin + b.xmax) / 2) * 1920;
      const cy = ((b.ymin + b.ymax) / 2) * 1080;
      expect(rs.some((r) => cx >= r.x && cx <= r.x + r.w && cy >= r.y && cy <= r.y + r.h)).toBe(true);
    }
  });

  it('normalises a region for payloads', () => {
    expect(rectToBox({ x: 960, y: 540, w: 480, h: 270 }, 1920, 1080)).toEqual({ xmin: 0.5, ymin: 0.5, xmax: 0.75, ymax: 0.75 });
  });
});

describe('RegionPlanner', () => {
  const layout = i420Layout(640, 480, 'none');
  function frame(at: number, square?: number, brighten = 0) {
    const data = new Uint8Array(layout.frameSize).fill(128);
    for (let i = 0; i < 640 * 480; i++) data[i] = 90 + brighten + ((i >> 4) % 3) * 10;
    if (square !== undefined) for (let y = 200; y < 280; y++) data.fill(0, y * 640 + square, y * 640 + square + 80);
    return { width: 640, height: 480, origin: 'test', capturedAt: at, i420: { data, layout }, data: Buffer.alloc(0) };
  }
  const planner = (idleDetectSec = 10) =>
    new RegionPlanner({ frameWidth: 640, frameHeight: 480, modelWidth: 300, modelHeight: 300, maxRegions: 3, idleDetectSec, threshold: 25, minArea: 0.001, masks: [] });

  it('still scene: the first frame and then one full frame per idleDetectSec, nothing else', () => {
    const p = planner(10);
    const runs: number[] = [];
    for (let t = 0; t <= 25_000; t += 200) {
      const plan = p.plan(frame(t), []);
      if (plan.run) {
        expect(plan).toMatchObject({ full: true, trigger: 'idle' });
        runs.push(t);
      }
    }
    expect(runs).toEqual([0, 10_000, 20_000]);
  });

  it('idleDetectSec 0: only the first frame', () => {
    const p = planner(0);
    const runs = [0, 5000, 60_000, 120_000].filter((t) => p.plan(frame(t), []).run);
    expect(runs).toEqual([0]);
  });

  it('motion: regions around it on every moving frame', () => {
    const p = planner();
    p.plan(frame(0), []);
    for (let i = 1; i <= 5; i++) {
      const plan = p.plan(frame(i * 200, 100 + i * 60), []);
      expect(plan.run).toBe(true);
      if (!plan.run || plan.full) throw new Error('expected regions');
      expect(plan.trigger).toBe('motion');
      expect(plan.regions.length).toBeGreaterThan(0);
      expect(plan.regions.length).toBeLessThanOrEqual(3);
      expect(plan.regions.every((r) => r.w >= 300 && r.h >= 300)).toBe(true);
    }
  });

  it('still tracked objects are re-checked every RECHECK_SEC, in regions', () => {
    const p = planner(60);
    p.plan(frame(0), []);
    const tracked = [{ xmin: 0.1, ymin: 0.1, xmax: 0.2, ymax: 0.2 }];
    const runs: number[] = [];
    for (let t = 200; t <= 10_000; t += 200) {
      const plan = p.plan(frame(t), tracked);
      if (plan.run) {
        expect(plan).toMatchObject({ trigger: 'objects', full: false });
        runs.push(t);
      }
    }
    expect(runs).toEqual([RECHECK_SEC * 1000, 2 * RECHECK_SEC * 1000, 3 * RECHECK_SEC * 1000]);
  });

  it('after motion stops, tracked objects are looked at on every frame for RECHECK_SEC, then every RECHECK_SEC', () => {
    const p = planner(60);
    p.plan(frame(0), []);
    const tracked = [{ xmin: 0.1, ymin: 0.3, xmax: 0.3, ymax: 0.6 }];
    expect(p.plan(frame(200, 100), tracked)).toMatchObject({ run: true, trigger: 'motion' });
    expect(p.plan(frame(400, 160), tracked)).toMatchObject({ run: true, trigger: 'motion' }); // last motion at 400
    // The square stays where it stopped (at 160): the background has not absorbed it yet, but it no longer moves.
    const runs: number[] = [];
    let motionAfter = 0;
    for (let t = 600; t <= 10_000; t += 200) {
      const plan = p.plan(frame(t), tracked); // it left: the frame is still (what moved is gone)
      if (plan.run && plan.trigger === 'objects') runs.push(t);
      if (plan.run && plan.trigger === 'motion') motionAfter++;
    }
    expect(motionAfter).toBeLessThanOrEqual(1); // the frame where it vanished may count as motion
    const within = runs.filter((t) => t < 400 + RECHECK_SEC * 1000);
    expect(within.length).toBeGreaterThanOrEqual(12); // every frame of the 3 s after
    const later = runs.filter((t) => t >= 400 + RECHECK_SEC * 1000 + 200);
    expect(later.length).toBeLessThanOrEqual(Math.ceil((10_000 - 3400) / (RECHECK_SEC * 1000)) + 1);
  });

  it('a global brightness jump: one full frame, then calm', () => {
    const p = planner(60);
    p.plan(frame(0), []);
    const plans = [];
    for (let t = 200; t <= 4000; t += 200) plans.push(p.plan(frame(t, undefined, 80), []));
    const runs = plans.filter((x) => x.run);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'calibration', full: true });
  });
});
