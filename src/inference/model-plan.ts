import { basename } from 'node:path';
import type { ModelInfo } from './detector.js';
import { decodeClassification, decodeSsd, ssdLayout, type LabelLookup, type OutputArray } from './postprocess.js';
import { readLabelsFile, resolveLabels } from './model/labels.js';
import { readModel } from './model/read-model.js';
import type { ModelDescription } from './model/types.js';
import type { Detection, ModelKind } from './types.js';
import type { InputNormalization } from './host/protocol.js';

export interface PlanOptions {
  kind: 'auto' | ModelKind;
  /** Labels file used when the model embeds none (or to override nothing: embedded labels win). */
  labelsPath: string | null;
  topK: number;
}

/** Everything the daemon knows about a model before running it: kind, input size, labels and output decoding. */
export interface ModelPlan {
  description: ModelDescription;
  info: ModelInfo;
  label: LabelLookup;
  normalization?: InputNormalization;
  decode(outputs: OutputArray[]): Detection[];
}

export class ModelPlanError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'ModelPlanError';
  }
}

/** SSD when the model ends in TFLite_Detection_PostProcess; a classifier when its one output is [1, N]. */
export function detectKind(d: ModelDescription): ModelKind | undefined {
  if (d.operators.some((op) => op.customCode === 'TFLite_Detection_PostProcess')) return 'ssd';
  if (d.outputs.length === 1) {
    const s = d.outputs[0]!.shape;
    if (s.length === 2 || (s.length === 4 && s[1] === 1 && s[2] === 1)) return 'classification';
  }
  return undefined;
}

export async function planModel(path: string, opts: PlanOptions): Promise<ModelPlan> {
  const description = await readModel(path);
  const name = basename(path);
  const input = description.inputs[0];
  if (description.inputs.length !== 1 || !input || input.shape.length !== 4 || input.shape[3] !== 3) {
    const shapes = description.inputs.map((t) => `[${t.shape.join(',')}]`).join(', ');
    throw new ModelPlanError(`${path}: expected one image input [1,H,W,3], found ${shapes || 'none'}`, path);
  }
  const detected = detectKind(description);
  const kind = opts.kind === 'auto' ? detected : opts.kind;
  if (!kind) {
    throw new ModelPlanError(`${path}: cannot tell whether this is an SSD detector or a classifier; set detector.kind`, path);
  }
  if (opts.kind !== 'auto' && detected && detected !== opts.kind) {
    throw new ModelPlanError(`${path}: detector.kind is "${opts.kind}" but the model looks like a ${detected} model`, path);
  }
  const fileLines = opts.labelsPath ? await readLabelsFile(opts.labelsPath) : undefined;
  const outputs = description.outputs;
  const numClasses = kind === 'classification' ? outputs[0]!.shape[outputs[0]!.shape.length - 1]! : (description.detectionClasses ?? 0);
  const label = resolveLabels({ embedded: description.embeddedLabels, fileLines, numClasses, kind });
  if (fileLines && opts.labelsPath && numClasses > 0 && label.size < numClasses) {
    // Every class past the file's end would be published as class_<id>: a wrong file, not a choice.
    throw new ModelPlanError(
      `labels file ${opts.labelsPath} names ${label.size} classes but ${name} has ${numClasses}: use the labels file made for this model (or null for the labels embedded in it)`,
      opts.labelsPath,
    );
  }
  const info: ModelInfo = { name, path, kind, inputHeight: input.shape[1]!, inputWidth: input.shape[2]! };
  const normalization = description.metadata?.normalization;

  let decode: ModelPlan['decode'];
  if (kind === 'ssd') {
    let layout: ReturnType<typeof ssdLayout>;
    try {
      layout = ssdLayout(outputs, description.signatures[0], outputs.map((t) => t.index));
    } catch (err) {
      throw new ModelPlanError(`${path}: ${(err as Error).message}`, path);
    }
    decode = (out) => decodeSsd(out, layout, label);
  } else {
    const quant = outputs[0]!.quantization;
    decode = (out) =>
      // ImageNet's class 0 is "background": never a useful answer.
      decodeClassification(out[0]!, quant, label, opts.topK + 1)
        .filter((d) => d.label !== 'background')
        .slice(0, opts.topK);
  }
  return { description, info, label, ...(normalization ? { normalization } : {}), decode };
}
