import { describe, expect, it } from 'vitest';
import { inspectMobilenetV1 } from '../../src/inspect/inspect-model.js';

const v1 = (alpha: number, resolution: number, classes = 1000) => inspectMobilenetV1({ alpha, resolution, classes });
const millions = (n: number | null) => n! / 1e6;

describe('MobileNet v1 from the paper\'s Table 1', () => {
  it('1.0-224: 569 M mult-adds and 4.2 M parameters', () => {
    const r = v1(1, 224);
    expect(millions(r.totals.macs)).toBeCloseTo(569, 0);
    expect(millions(r.totals.params)).toBeCloseTo(4.2, 1);
    expect(r.family).toBe('MobileNet v1');
    expect(r.alpha).toBe(1);
    expect(r.resolution).toBe(224);
  });

  it.each([
    [0.75, 325],
    [0.5, 149],
    [0.25, 41],
  ])('width multiplier %s at 224: %s M mult-adds (paper Table 6)', (alpha, published) => {
    // The paper prints whole millions: within half a million is a reproduction, not an approximation.
    expect(Math.abs(millions(v1(alpha, 224).totals.macs) - published)).toBeLessThan(0.6);
  });

  it.each([
    [192, 418],
    [160, 290],
    [128, 186],
  ])('resolution %s at alpha 1: %s M mult-adds (paper Table 7)', (resolution, published) => {
    expect(Math.abs(millions(v1(1, resolution).totals.macs) - published)).toBeLessThan(0.7);
  });

  it('the paper\'s Table 2 shares: 1x1 convs hold 94.86% of mult-adds and 74.59% of parameters', () => {
    const { byType } = v1(1, 224);
    expect(byType.conv1x1.macsShare * 100).toBeCloseTo(94.86, 1);
    expect(Math.abs(byType.conv1x1.paramsShare * 100 - 74.59)).toBeLessThan(0.1);
    expect(Math.abs(byType.depthwise.macsShare * 100 - 3.06)).toBeLessThan(0.01);
    expect(Math.abs(byType.fullyConnected.macsShare * 100 - 0.18)).toBeLessThan(0.01);
    // The paper prints 1.19% for the first (full) conv; 10.8 M of 569 M is 1.91%: its column sums to 99.29%.
    expect(Math.abs(byType.conv.macsShare * 100 - 1.91)).toBeLessThan(0.01);
    const shares = Object.values(byType).reduce((a, t) => a + t.macsShare, 0);
    expect(shares).toBeCloseTo(1, 9);
  });

  it('without biases (the paper counts weights only) parameters are exactly 4,209,088', () => {
    // Each conv adds one bias per output channel (BatchNorm folded at export), the FC one per class.
    const biases = v1(1, 224).layers.reduce((a, l) => a + (l.params ? l.output[l.output.length - 1]! : 0), 0);
    expect(v1(1, 224).totals.params! - biases).toBe(4_209_088);
  });

  it('every 3x3 separable pair costs 1/N + 1/9 of the standard conv it replaces', () => {
    const pairs = v1(1, 224).separablePairs;
    expect(pairs).toHaveLength(13);
    for (const p of pairs) {
      expect(p.kernel).toEqual([3, 3]);
      expect(p.reduction).toBeCloseTo(1 / p.outChannels + 1 / 9, 12);
      expect(p.predicted).toBeCloseTo(p.reduction, 12);
    }
    // "8 to 9 times less computation" (paper, section 3.1).
    const sep = pairs.reduce((a, p) => a + p.macs, 0);
    const std = pairs.reduce((a, p) => a + p.standardMacs, 0);
    expect(std / sep).toBeGreaterThan(8);
    expect(std / sep).toBeLessThan(9);
  });

  it('follows Table 1\'s shapes: 224 -> 112 -> 56 -> 28 -> 14 -> 7, 32 -> 1024 channels, pool 7x7', () => {
    const { layers } = v1(1, 224);
    expect(layers[0]).toMatchObject({ op: 'CONV_2D', type: 'conv', input: [1, 224, 224, 3], output: [1, 112, 112, 32], stride: [2, 2] });
    expect(layers.filter((l) => l.type === 'depthwise').map((l) => l.output[1])).toEqual([112, 56, 56, 28, 28, 14, 14, 14, 14, 14, 14, 7, 7]);
    expect(layers.at(-3)).toMatchObject({ op: 'AVERAGE_POOL_2D', kernel: [7, 7], macs: 0, output: [1, 1, 1, 1024] });
    expect(layers.at(-2)).toMatchObject({ op: 'FULLY_CONNECTED', macs: 1024 * 1000, params: 1024 * 1000 + 1000 });
    expect(layers.at(-1)).toMatchObject({ op: 'SOFTMAX', macs: 0 });
  });

  it('odd resolutions round up at each stride (SAME padding), and tiny alphas keep 8 channels', () => {
    const odd = v1(1, 225).layers;
    expect(odd[0]!.output).toEqual([1, 113, 113, 32]);
    expect(odd.at(-3)!.kernel).toEqual([8, 8]);
    expect(v1(0.1, 224).layers[0]!.output[3]).toBe(8);
  });
});
