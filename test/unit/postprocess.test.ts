import { describe, expect, it } from 'vitest';
import { decodeClassification, decodeSsd, ssdLayout } from '../../src/inference/postprocess.js';

const label = (id: number): string => `c${id}`;
const tf1 = [
  { name: 'boxes', shape: [1, 10, 4] },
  { name: 'classes', shape: [1, 10] },
  { name: 'scores', shape: [1, 10] },
  { name: 'count', shape: [1] },
];

describe('ssdLayout', () => {
  it('recognises TF1 order by the size-1 fourth output', () => {
    expect(ssdLayout(tf1)).toEqual({ boxes: 0, classes: 1, scores: 2, count: 3 });
  });

  it('falls back to the TF2 order (scores, boxes, count, classes)', () => {
    const tf2 = [
      { name: 'scores', shape: [1, 10] },
      { name: 'boxes', shape: [1, 10, 4] },
      { name: 'count', shape: [1] },
      { name: 'classes', shape: [1, 10] },
    ];
    expect(ssdLayout(tf2)).toEqual({ scores: 0, boxes: 1, count: 2, classes: 3 });
  });

  it('follows the SignatureDef names when the model has one', () => {
    const outputs = [
      { name: 'a', shape: [1, 10] },
      { name: 'b', shape: [1, 10, 4] },
      { name: 'c', shape: [1] },
      { name: 'd', shape: [1, 10] },
    ];
    const signature = {
      key: 'serving_default',
      inputs: [],
      outputs: [
        { name: 'output_0', tensorIndex: 12 },
        { name: 'output_1', tensorIndex: 10 },
        { name: 'output_2', tensorIndex: 13 },
        { name: 'output_3', tensorIndex: 11 },
      ],
    };
    expect(ssdLayout(outputs, signature, [10, 11, 12, 13])).toEqual({ count: 2, scores: 0, classes: 3, boxes: 1 });
  });

  it('rejects a model whose boxes output is not [1,N,4]', () => {
    const bad = [{ name: 'x', shape: [1, 10] }, ...tf1.slice(1)];
    expect(() => ssdLayout(bad)).toThrow(/boxes \[1,N,4\]/);
    expect(() => ssdLayout(tf1.slice(0, 3))).toThrow(/4 outputs/);
  });
});

describe('decodeSsd', () => {
  it('turns (ymin, xmin, ymax, xmax) into xmin-first boxes, clamped, and honours count', () => {
    const boxes = new Float32Array(40);
    boxes.set([0.1, 0.2, 0.5, 0.9], 0);
    boxes.set([-0.05, 0.6, 1.02, 0.7], 4);
    boxes.set([0.3, 0.3, 0.4, 0.4], 8);
    const classes = new Float32Array(10);
    classes.set([16, 17, 0]);
    const scores = new Float32Array(10);
    scores.set([0.9, 0.6, 0.55]);
    const out = decodeSsd([boxes, classes, scores, new Float32Array([2])], { boxes: 0, classes: 1, scores: 2, count: 3 }, label);
    expect(out).toHaveLength(2);
    expect(out[0]!.box!.xmin).toBeCloseTo(0.2, 5);
    expect(out[0]!.box!.ymin).toBeCloseTo(0.1, 5);
    expect(out[0]!.box!.xmax).toBeCloseTo(0.9, 5);
    expect(out[0]!.box!.ymax).toBeCloseTo(0.5, 5);
    expect(out[0]).toMatchObject({ label: 'c16', classId: 16 });
    expect(out[0]!.score).toBeCloseTo(0.9, 5);
    expect(out[1]!.box).toEqual({ xmin: expect.closeTo(0.6, 5), ymin: 0, xmax: expect.closeTo(0.7, 5), ymax: 1 });
  });
});

describe('decodeClassification', () => {
  it('gives what sorting every class would, ties in class order, for any k and threshold', () => {
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let run = 0; run < 50; run++) {
      // Quantized scores of 1001 classes: few distinct values, so ties are common.
      const scores = Uint8Array.from({ length: 1001 }, () => Math.floor(rand() ** 4 * 256));
      const k = 1 + (run % 7);
      const minScore = run % 3 === 0 ? 0.2 : 0;
      const quant = { scale: [1 / 256], zeroPoint: [0], quantizedDimension: 0 };
      const expected = [...scores]
        .map((q, classId) => ({ classId, score: q / 256 }))
        .filter((r) => r.score >= minScore)
        .sort((a, b) => b.score - a.score || a.classId - b.classId)
        .slice(0, k);
      const got = decodeClassification(scores, quant, (id) => `c${id}`, k, minScore);
      expect(got.map(({ classId, score }) => ({ classId, score }))).toEqual(expected);
    }
  });

  it('dequantizes uint8 scores with the output scale and returns the top k in order', () => {
    const scores = new Uint8Array(1001);
    scores[653] = 200;
    scores[400] = 30;
    scores[7] = 120;
    const out = decodeClassification(scores, { scale: [1 / 256], zeroPoint: [0], quantizedDimension: 0 }, label, 2);
    expect(out.map((d) => d.classId)).toEqual([653, 7]);
    expect(out[0]!.score).toBeCloseTo(200 / 256, 6);
    expect(out[0]!.box).toBeUndefined();
  });

  it('applies the zero point and leaves float outputs as they are', () => {
    const q = decodeClassification(new Uint8Array([10, 138]), { scale: [0.5], zeroPoint: [128], quantizedDimension: 0 }, label, 1);
    expect(q[0]).toMatchObject({ classId: 1, score: 5 });
    const f = decodeClassification(new Float32Array([0.25, 0.75]), { scale: [0.5], zeroPoint: [128], quantizedDimension: 0 }, label, 5);
    expect(f.map((d) => [d.classId, d.score])).toEqual([
      [1, 0.75],
      [0, 0.25],
    ]);
  });
});
