import type { SignatureDef } from './model/types.js';
import type { Detection, Quantization } from './types.js';

export type OutputArray = Float32Array | Uint8Array | Int8Array | Int32Array;
export type LabelLookup = (classId: number) => string;

/** Which output of TFLite_Detection_PostProcess holds what. */
export interface SsdLayout {
  boxes: number;
  classes: number;
  scores: number;
  count: number;
}

interface OutputShape {
  shape: number[];
  name: string;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * TF1 exports give (boxes, classes, scores, count); TF2 exports reorder them. A SignatureDef, when present, names them
 * output_0..3 = count, scores, classes, boxes (the TF2 convention pycoral follows); otherwise a size-1 fourth output
 * means TF1 order, else TF2's (scores, boxes, count, classes).
 */
export function ssdLayout(outputs: OutputShape[], signature?: SignatureDef, outputTensorIndices?: number[]): SsdLayout {
  if (outputs.length !== 4) throw new Error(`an SSD model has 4 outputs (boxes, classes, scores, count); this one has ${outputs.length}`);
  let layout: SsdLayout;
  const named = signature?.outputs;
  if (named && named.length === 4 && outputTensorIndices) {
    const pos = (n: string): number => {
      const entry = named.find((o) => o.name === n);
      const at = entry ? outputTensorIndices.indexOf(entry.tensorIndex) : -1;
      if (at < 0) throw new Error(`signature output ${n} not found among the model outputs`);
      return at;
    };
    layout = { count: pos('output_0'), scores: pos('output_1'), classes: pos('output_2'), boxes: pos('output_3') };
  } else if (size(outputs[3]!.shape) === 1) {
    layout = { boxes: 0, classes: 1, scores: 2, count: 3 };
  } else {
    layout = { scores: 0, boxes: 1, count: 2, classes: 3 };
  }
  const boxShape = outputs[layout.boxes]!.shape;
  if (boxShape.length !== 3 || boxShape[2] !== 4) {
    throw new Error(`SSD output ${outputs[layout.boxes]!.name} should be boxes [1,N,4], found [${boxShape.join(',')}]`);
  }
  return layout;
}

/** Decodes SSD outputs. Boxes come as (ymin, xmin, ymax, xmax) in model-input coordinates; results carry xmin first. */
export function decodeSsd(out: OutputArray[], layout: SsdLayout, label: LabelLookup): Detection[] {
  const boxes = out[layout.boxes]!;
  const classes = out[layout.classes]!;
  const scores = out[layout.scores]!;
  const n = Math.min(Math.round(out[layout.count]![0] ?? 0), scores.length, classes.length, Math.floor(boxes.length / 4));
  const results: Detection[] = [];
  for (let i = 0; i < n; i++) {
    const classId = Math.round(classes[i]!);
    const b = i * 4;
    const clamp = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
    results.push({
      label: label(classId),
      classId,
      score: scores[i]!,
      box: { xmin: clamp(boxes[b + 1]!), ymin: clamp(boxes[b]!), xmax: clamp(boxes[b + 3]!), ymax: clamp(boxes[b + 2]!) },
    });
  }
  return results;
}

/**
 * Top-k of a classifier's scores, dequantized with the output tensor's scale and zero point. Results scoring below
 * `minScore` are not worth sorting.
 */
export function decodeClassification(
  scores: OutputArray,
  quant: Quantization | undefined,
  label: LabelLookup,
  topK: number,
  minScore = 0,
): Detection[] {
  const quantized = !(scores instanceof Float32Array);
  const scale = quantized ? (quant?.scale[0] ?? 1) : 1;
  const zero = quantized ? (quant?.zeroPoint[0] ?? 0) : 0;
  // Best first; a new entry is inserted in place (k is small), and one no better than the last of a full list is
  // skipped with one comparison: most of a thousand classes are.
  const ids: number[] = [];
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const score = (scores[i]! - zero) * scale;
    if (score < minScore || (best.length >= topK && score <= best[best.length - 1]!)) continue;
    if (best.length >= topK) {
      ids.pop();
      best.pop();
    }
    let at = best.length;
    while (at > 0 && best[at - 1]! < score) at--;
    ids.splice(at, 0, i);
    best.splice(at, 0, score);
  }
  return ids.map((classId, i) => ({ label: label(classId), classId, score: best[i]! }));
}
