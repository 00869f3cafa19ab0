import type { OpGraph } from './graph.js';
import type { LayerCost, SeparablePair } from './types.js';

/**
 * Depthwise + pointwise pairs (a depthwise conv whose only reader is a 1x1 conv), each priced against the one
 * standard convolution with the same input channels M, output channels N, kernel and output size:
 * outH*outW*kH*kW*M*N. The paper's Section 3.1 predicts separable/standard = 1/N + 1/Dk^2.
 */
export function separablePairs(layers: LayerCost[], graph: OpGraph): SeparablePair[] {
  const pairs: SeparablePair[] = [];
  for (const dw of layers) {
    if (dw.type !== 'depthwise' || !dw.kernel || dw.macs === null) continue;
    const readers = graph.consumers(dw.index);
    const pw = readers.length === 1 ? layers[readers[0]!] : undefined;
    // A strided 1x1 conv would change the output size: then no single standard conv has the same shapes.
    if (!pw || pw.type !== 'conv1x1' || pw.macs === null || pw.output[1] !== dw.output[1] || pw.output[2] !== dw.output[2]) continue;
    const [kH, kW] = dw.kernel;
    const [, outH = 1, outW = 1] = dw.output;
    const inChannels = dw.input[3] ?? 0;
    const outChannels = pw.output[3] ?? 0;
    const depthMultiplier = inChannels > 0 ? (dw.output[3] ?? 0) / inChannels : 1;
    const standardMacs = outH * outW * kH * kW * inChannels * outChannels;
    if (standardMacs === 0) continue;
    const macs = dw.macs + pw.macs;
    pairs.push({
      depthwise: dw.index,
      pointwise: pw.index,
      kernel: [kH, kW],
      inChannels,
      outChannels,
      macs,
      standardMacs,
      reduction: macs / standardMacs,
      predicted: depthMultiplier * (1 / outChannels + 1 / (kH * kW)),
    });
  }
  return pairs;
}
