import { V1_POINTWISE } from './family.js';
import type { LayerCost } from './types.js';

export interface AnalyticOptions {
  /** Width multiplier α: every layer has α times the channels. */
  alpha: number;
  /** Input height and width (the paper's ρ times 224). */
  resolution: number;
  /** Classifier outputs: the paper's 1000; Coral's ImageNet files have 1001 (line 0 is "background"). */
  classes: number;
}

/**
 * Strides of the 13 depthwise convs. Table 1 prints s2 for the last one, but its input and output are both
 * 7x7: a typo every implementation (TF-slim included) reads as s1.
 */
const DEPTHWISE_STRIDES = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1];
const FIRST_CONV = 32;
/** TF-slim's floor on the channel count (min_depth), so tiny α never reach zero channels. */
const MIN_DEPTH = 8;

/**
 * MobileNet v1 from the paper's Table 1 (conv 3x3 s2, 13 depthwise separable blocks, average pool, FC,
 * softmax) for any α and resolution, as the same LayerCost rows an inspected file gives. SAME padding
 * (output = ceil(input / stride)); every conv has a bias, as BatchNorm becomes once a model is exported:
 * that keeps this table comparable to the .tflite files (and adds 0.3% to the paper's weights-only count).
 */
export function mobilenetV1Layers({ alpha, resolution, classes }: AnalyticOptions): LayerCost[] {
  const depth = (d: number) => Math.max(Math.floor(d * alpha), MIN_DEPTH);
  const layers: LayerCost[] = [];
  const add = (layer: Omit<LayerCost, 'index'>) => layers.push({ index: layers.length, ...layer });

  let size = Math.ceil(resolution / 2);
  let channels = depth(FIRST_CONV);
  add({
    op: 'CONV_2D', type: 'conv', name: 'Conv2d_0', input: [1, resolution, resolution, 3], output: [1, size, size, channels],
    kernel: [3, 3], stride: [2, 2], padding: 'SAME',
    macs: size * size * 9 * 3 * channels, params: 9 * 3 * channels + channels,
  });
  V1_POINTWISE.forEach((width, i) => {
    const stride = DEPTHWISE_STRIDES[i]!;
    const inSize = size;
    size = Math.ceil(size / stride);
    add({
      op: 'DEPTHWISE_CONV_2D', type: 'depthwise', name: `Conv2d_${i + 1}_depthwise`,
      input: [1, inSize, inSize, channels], output: [1, size, size, channels],
      kernel: [3, 3], stride: [stride, stride], padding: 'SAME',
      macs: size * size * 9 * channels, params: 9 * channels + channels,
    });
    const out = depth(width);
    add({
      op: 'CONV_2D', type: 'conv1x1', name: `Conv2d_${i + 1}_pointwise`,
      input: [1, size, size, channels], output: [1, size, size, out],
      kernel: [1, 1], stride: [1, 1], padding: 'SAME',
      macs: size * size * channels * out, params: channels * out + out,
    });
    channels = out;
  });
  add({
    op: 'AVERAGE_POOL_2D', type: 'other', name: 'AvgPool', input: [1, size, size, channels], output: [1, 1, 1, channels],
    kernel: [size, size], stride: [1, 1], padding: 'VALID', macs: 0, params: 0,
  });
  add({
    op: 'FULLY_CONNECTED', type: 'fullyConnected', name: 'Logits', input: [1, channels], output: [1, classes],
    macs: channels * classes, params: channels * classes + classes,
  });
  add({ op: 'SOFTMAX', type: 'other', name: 'Predictions', input: [1, classes], output: [1, classes], macs: 0, params: 0 });
  return layers;
}
