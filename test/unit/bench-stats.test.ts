import { describe, expect, it } from 'vitest';
import { defaultWarmupSec, phaseTime, planBench } from '../../src/bench/plan.js';
import { fpsFromMeanMs, fpsOver, overheadOf, percentile, ratioOf, SampleSet, summarize } from '../../src/bench/stats.js';
import { pickFastest, sweepCandidates } from '../../src/bench/sweep.js';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles of 1..100 whatever the input order', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize(values)).toEqual({ count: 100, mean: 50.5, p50: 50, p99: 99, max: 100 });
    expect(percentile([], 0.5)).toBe(0);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it('summarizes nothing as zeros and rounds to hundredths', () => {
    expect(summarize([])).toEqual({ count: 0, mean: 0, p50: 0, p99: 0, max: 0 });
    expect(summarize([1 / 3, 2 / 3]).mean).toBe(0.5);
    expect(summarize([1 / 3]).p50).toBe(0.33);
  });

  it('derives rates, the ratio and the per-frame overhead', () => {
    expect(fpsFromMeanMs(66.7)).toBe(15);
    expect(fpsFromMeanMs(0)).toBe(0);
    expect(fpsOver(150, 10_000)).toBe(15);
    expect(fpsOver(5, 0)).toBe(0);
    expect(ratioOf(13.5, 15)).toBe(0.9);
    expect(ratioOf(10, 0)).toBe(0);
    expect(overheadOf(71.26, 67.01)).toBe(4.25);
  });

  it('discards warm-up samples and stops counting at end()', () => {
    const s = new SampleSet();
    s.add(500); // warm-up: the first inference is slow
    s.begin();
    s.add(10);
    s.add(20);
    s.add(Number.NaN); // a message without a usable time
    s.end();
    s.add(1000);
    expect(s.count).toBe(2);
    expect(s.summary()).toMatchObject({ count: 2, p50: 10, max: 20 });
  });
});

describe('bench plan', () => {
  it('gives the turns 75 % and JPEG 25 %, with rounds of about a second, 40 % raw, after the pipeline warm-up', () => {
    const p = planBench(20);
    expect(p.sweep).toEqual([]);
    expect(p.jpeg).toEqual({ warmupMs: 1000, measureMs: 4000 });
    expect(p.turns).toEqual({ pipelineWarmupMs: 10_000, warmupMs: 1000, rounds: 14, rawSliceMs: 373, pipelineSliceMs: 600 });
    const turnsMs = p.turns.warmupMs + p.turns.rounds * p.turns.pipelineSliceMs + (p.turns.rounds + 1) * p.turns.rawSliceMs;
    expect(Math.abs(turnsMs - 15_000)).toBeLessThan(20);
  });

  it('warms the pipeline up for half of --seconds, 10 s at most, or as asked, on top of --seconds', () => {
    expect(defaultWarmupSec(4)).toBe(2);
    expect(defaultWarmupSec(60)).toBe(10);
    expect(planBench(4).turns.pipelineWarmupMs).toBe(2000);
    expect(planBench(20, 0, 0).turns.pipelineWarmupMs).toBe(0);
    expect(planBench(20, 0, 45).turns.pipelineWarmupMs).toBe(45_000);
    expect(planBench(20, 0, 45).turns.rounds).toBe(planBench(20).turns.rounds);
  });

  it('keeps at least three rounds in a short run, and gives a sweep 20 % first', () => {
    expect(phaseTime(1200)).toEqual({ warmupMs: 300, measureMs: 900 });
    expect(planBench(2).turns.rounds).toBe(3);
    const p = planBench(20, 4);
    expect(p.sweep).toHaveLength(4);
    expect(p.sweep[0]).toEqual({ warmupMs: 250, measureMs: 750 });
    expect(p.turns.rounds).toBe(10);
  });
});

describe('thread sweep', () => {
  it('tries 1..min(4, 2 x cores)', () => {
    expect(sweepCandidates(1)).toEqual([1, 2]);
    expect(sweepCandidates(2)).toEqual([1, 2, 3, 4]);
    expect(sweepCandidates(8)).toEqual([1, 2, 3, 4]);
    expect(sweepCandidates(0)).toEqual([1]);
  });

  it('keeps the fastest, and the fewer threads on a tie', () => {
    expect(pickFastest([{ threads: 1, fps: 15 }, { threads: 2, fps: 3 }, { threads: 3, fps: 1 }])).toEqual({ threads: 1, fps: 15 });
    expect(pickFastest([{ threads: 1, fps: 6 }, { threads: 2, fps: 11 }, { threads: 4, fps: 17.5 }, { threads: 3, fps: 17.5 }])).toEqual({ threads: 3, fps: 17.5 });
    expect(() => pickFastest([])).toThrow(/measured nothing/);
  });
});
