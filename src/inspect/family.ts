import type { OpGraph } from './graph.js';
import type { LayerCost, SeparablePair } from './types.js';

export interface FamilyGuess {
  /** 'MobileNet v1', 'MobileNet v2', 'SSD head on MobileNet v1', ..., or 'unknown'. */
  family: string;
  backbone: 'MobileNet v1' | 'MobileNet v2' | null;
  alpha: number | null;
  resolution: number | null;
}

/** Output channels of the 13 pointwise convs of MobileNet v1 at alpha 1 (paper, Table 1). */
export const V1_POINTWISE = [64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];
/** Output channels of the 17 projection convs of MobileNet v2 at alpha 1 (v2 paper, Table 2). */
const V2_PROJECT = [16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320];
const PUBLISHED_ALPHAS = { 'MobileNet v1': [0.25, 0.5, 0.75, 1.0], 'MobileNet v2': [0.35, 0.5, 0.75, 1.0, 1.3, 1.4] };

const SSD_POSTPROCESS = 'TFLite_Detection_PostProcess';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Width multiplier from channel counts. The median ignores the few layers that rounding (v2 rounds to
 * multiples of 8) or a min_depth floor pushes off; a value within 8% of a published alpha is snapped to it.
 */
function estimateAlpha(pairs: SeparablePair[], reference: number[], published: number[]): number | null {
  const ratios = pairs.slice(0, reference.length).map((p, i) => p.outChannels / reference[i]!);
  if (ratios.length === 0) return null;
  const raw = median(ratios);
  const near = published.find((a) => Math.abs(raw - a) / a < 0.08);
  return near ?? Math.round(raw * 100) / 100;
}

/**
 * Recognises the backbone from structure, not tensor names (converters rename freely):
 * v1 chains its separable pairs directly (each depthwise reads the previous pointwise conv);
 * v2 puts a 1x1 expansion conv in front of most depthwise convs (inverted residuals).
 */
function recogniseBackbone(layers: LayerCost[], graph: OpGraph, pairs: SeparablePair[]): FamilyGuess['backbone'] {
  if (pairs.length < 5) return null;
  const pointwise = new Set(pairs.map((p) => p.pointwise));
  const chained = pairs.slice(1).filter((p, i) => graph.producerOfInput(p.depthwise) === pairs[i]!.pointwise).length;
  const expanded = pairs.filter((p) => {
    const producer = graph.producerOfInput(p.depthwise);
    return producer !== undefined && layers[producer]?.type === 'conv1x1' && !pointwise.has(producer);
  }).length;
  if (chained === pairs.length - 1) return 'MobileNet v1';
  if (expanded >= pairs.length / 2 && layers.some((l) => l.op === 'ADD')) return 'MobileNet v2';
  return null;
}

export function recogniseFamily(layers: LayerCost[], graph: OpGraph, pairs: SeparablePair[], input: number[] | undefined): FamilyGuess {
  const backbone = recogniseBackbone(layers, graph, pairs);
  const ssd = layers.some((l) => l.op === SSD_POSTPROCESS);
  const resolution = input && input.length === 4 ? input[1]! : null;
  const alpha =
    backbone === 'MobileNet v1' ? estimateAlpha(pairs, V1_POINTWISE, PUBLISHED_ALPHAS[backbone])
    : backbone === 'MobileNet v2' ? estimateAlpha(pairs, V2_PROJECT, PUBLISHED_ALPHAS[backbone])
    : null;
  const family = ssd ? `SSD head on ${backbone ?? 'an unknown backbone'}` : (backbone ?? 'unknown');
  return { family, backbone, alpha, resolution };
}
