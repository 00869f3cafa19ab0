import { describe, expect, it } from 'vitest';
import { RecentMedian } from '../../src/pipeline/camera-pipeline.js';

describe('RecentMedian', () => {
  it('is the median of the last `size` samples, whatever their order, and 0 before any', () => {
    const m = new RecentMedian(5);
    expect(m.value).toBe(0);
    m.add(10);
    expect(m.value).toBe(10);
    m.add(2);
    expect(m.value).toBe(2); // of two, the lower
    for (const v of [7, 7, 30]) m.add(v);
    expect(m.value).toBe(7); // 10 2 7 7 30
    m.add(1); // 10 leaves: 2 7 7 30 1
    expect(m.value).toBe(7);
    m.add(1); // 2 leaves: 7 7 30 1 1
    m.add(1); // 7 leaves: 7 30 1 1 1
    expect(m.value).toBe(1);
    m.add(Number.NaN); // ignored
    expect(m.value).toBe(1);
  });

  it('agrees with sorting the window every time, over a long random run', () => {
    const m = new RecentMedian(15);
    const window: number[] = [];
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const v = (x % 1000) / 100; // repeats included
      m.add(v);
      window.push(v);
      if (window.length > 15) window.shift();
      const sorted = [...window].sort((a, b) => a - b);
      expect(m.value).toBe(sorted[(sorted.length - 1) >> 1]);
    }
  });
});
