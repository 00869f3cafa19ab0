import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { readModel } from '../inference/model/read-model.js';
import type { ModelDescription } from '../inference/model/types.js';
import { recogniseFamily } from './family.js';
import { chainGraph, modelGraph } from './graph.js';
import { costByType, EDGETPU_CUSTOM_OP, layerCosts, totalsOf } from './layer-cost.js';
import { metadataOf, quantizationOf } from './model-facts.js';
import { mobilenetV1Layers, type AnalyticOptions } from './mobilenet-v1-analytic.js';
import { separablePairs } from './separable-pairs.js';
import type { EdgeTpuSummary, InspectReport, LayerCost } from './types.js';

/** Coral publishes every model twice: `x.tflite` for the CPU and `x_edgetpu.tflite` compiled from it. */
export function cpuTwinPath(path: string): string | undefined {
  const twin = path.replace(/_edgetpu\.tflite$/, '.tflite');
  return twin !== path ? twin : undefined;
}

/** The twin, when it is beside the model and plausibly the same network (same input); else undefined. */
async function readTwin(model: ModelDescription, twinPath: string | undefined): Promise<ModelDescription | undefined> {
  if (!twinPath || !existsSync(twinPath)) return undefined;
  try {
    const twin = await readModel(twinPath);
    const same = twin.inputs[0]?.shape.join('x') === model.inputs[0]?.shape.join('x') && !twin.edgetpu;
    return same ? twin : undefined;
  } catch {
    return undefined; // a broken twin only costs us the figures, not the inspection
  }
}

function analyse(model: ModelDescription) {
  const layers = layerCosts(model);
  const graph = modelGraph(model);
  const pairs = separablePairs(layers, graph);
  return { layers, pairs, guess: recogniseFamily(layers, graph, pairs, model.inputs[0]?.shape) };
}

/**
 * An Edge TPU model shows one opaque custom op plus whatever the compiler left on the CPU. What the TPU runs
 * costs what the CPU twin costs, minus the operators still on the CPU (the twin holds those too).
 */
async function inspectEdgeTpu(path: string, model: ModelDescription): Promise<InspectReport> {
  const twinPath = cpuTwinPath(path);
  const twin = await readTwin(model, twinPath);
  const own = layerCosts(model);
  const customOps = own.filter((l) => l.op === EDGETPU_CUSTOM_OP);
  const cpuLayers = own.filter((l) => l.op !== EDGETPU_CUSTOM_OP);
  const cpu = totalsOf(cpuLayers);
  const twinAnalysis = twin ? analyse(twin) : undefined;
  const twinTotals = twinAnalysis ? totalsOf(twinAnalysis.layers) : undefined;
  const tpuMacs = twinTotals?.macs != null && cpu.macs !== null ? twinTotals.macs - cpu.macs : null;
  const tpuParams = twinTotals?.params != null && cpu.params !== null ? twinTotals.params - cpu.params : null;
  // With several custom ops we cannot split the twin's cost between them: leave each one unknown.
  const layers: LayerCost[] = own.map((l) =>
    l.op === EDGETPU_CUSTOM_OP
      ? { ...l, runsOn: 'tpu', ...(customOps.length === 1 ? { macs: tpuMacs, params: tpuParams } : {}) }
      : { ...l, runsOn: 'cpu' },
  );
  const edgetpu: EdgeTpuSummary = {
    customOps: customOps.map((l) => ({ index: l.index, payloadBytes: l.payloadBytes ?? 0 })),
    cpuOps: cpuLayers.map((l) => l.op),
    twin: twin ? twinPath! : null,
    tpuMacs,
    tpuParams,
  };
  const guess = twinAnalysis?.guess ?? recogniseFamily(layers, chainGraph(0), [], model.inputs[0]?.shape);
  return {
    model: basename(path),
    family: guess.family,
    alpha: guess.alpha,
    resolution: guess.resolution,
    totals: twinTotals ?? { macs: null, params: null },
    byType: costByType(twinAnalysis?.layers ?? cpuLayers),
    layers,
    costFrom: twin
      ? `CPU twin ${basename(twinPath!)} (the Edge TPU payload hides the layers)`
      : `not visible: the layers are compiled into the Edge TPU payload and no CPU twin${twinPath ? ` (${basename(twinPath)})` : ''} is beside it`,
    input: model.inputs[0]?.shape ?? [],
    path,
    sizeBytes: model.sizeBytes,
    separablePairs: twinAnalysis?.pairs ?? [],
    quantization: quantizationOf(model, twin),
    edgetpu,
    ...withMetadata(model),
  };
}

function withMetadata(model: ModelDescription): Pick<InspectReport, 'metadata'> {
  const metadata = metadataOf(model);
  return metadata ? { metadata } : {};
}

/** Reads and prices a .tflite file. Throws the reader's ModelFileError (naming the file) when it is not usable. */
export async function inspectModelFile(path: string): Promise<InspectReport> {
  const model = await readModel(path);
  if (model.edgetpu) return inspectEdgeTpu(path, model);
  const { layers, pairs, guess } = analyse(model);
  return {
    model: basename(path),
    family: guess.family,
    alpha: guess.alpha,
    resolution: guess.resolution,
    totals: totalsOf(layers),
    byType: costByType(layers),
    layers,
    costFrom: 'this file',
    input: model.inputs[0]?.shape ?? [],
    path,
    sizeBytes: model.sizeBytes,
    separablePairs: pairs,
    quantization: quantizationOf(model, model),
    ...withMetadata(model),
  };
}

/** MobileNet v1 priced from the paper's Table 1, in the same report shape as a file. */
export function inspectMobilenetV1(options: AnalyticOptions): InspectReport {
  const layers = mobilenetV1Layers(options);
  return {
    model: `MobileNet v1 ${options.alpha}-${options.resolution} (analytic)`,
    family: 'MobileNet v1',
    alpha: options.alpha,
    resolution: options.resolution,
    totals: totalsOf(layers),
    byType: costByType(layers),
    layers,
    costFrom: `MobileNet paper (arXiv 1704.04861) Table 1, ${options.classes} classes`,
    input: layers[0]!.input,
    separablePairs: separablePairs(layers, chainGraph(layers.length)),
  };
}
