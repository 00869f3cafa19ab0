import type { ConfigProblem } from './errors.js';
import { check, edgetpuDevice, int, isPlainObject, num, orNull, text } from './formats.js';
import { setting, type ValueOf } from './setting.js';
import { runSchema, show, type PathValue } from './validate.js';

/**
 * Second-stage classifiers: each entry names the detector labels whose crops it classifies. The list is one top-level
 * key that convict cannot describe entry by entry, so each entry gets its own convict run (like the cameras).
 */

const path = orNull(text({ nonEmpty: true }));

const objectList = check<string[]>('non-empty array of detector labels', (v) => {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s.length > 0)) return 'must be an array of detector labels (non-empty strings)';
  if (v.length === 0) return 'must name at least one detector label (e.g. ["bird"])';
  return new Set(v).size === v.length ? undefined : 'names a label twice';
});

export const classifierSchema = {
  objects: setting({
    doc: 'Detector labels whose detections this classifier names, e.g. ["bird"]: each detection of one of them (after the filters) is cropped from the full-resolution frame and classified.',
    format: objectList,
    default: null,
  }),
  model: {
    cpu: setting({
      doc: 'CPU classifier model (`.tflite`, one output [1, N]); needed for the CPU and for the Edge TPU fallback. The Edge TPU twin (`_edgetpu.tflite` beside it) is used when detector.backend allows.',
      format: path,
      default: null,
      path: 'file',
    }),
    edgetpu: setting({
      doc: "Edge TPU classifier model (`*_edgetpu.tflite`, or Coral's co-compiled build made together with the detector's); runs with the detector's Edge TPU settings.",
      format: path,
      default: null,
      path: 'file',
    }),
  },
  edgetpuDevice: setting({
    doc: "The Edge TPU the classifier's `_edgetpu` model runs on (\"\", usb, usb:N, pci, pci:N or :N); null: the detector's detector.edgetpu.device. The classifier runs in an inference process of its own: give it a Coral of its own (e.g. \"usb:1\") when you have two; see docs/classifiers.md for one Coral.",
    format: orNull(edgetpuDevice),
    default: null,
  }),
  labels: setting({
    doc: 'Label file of the classifier (one label per line, or "id label" lines); null uses the labels embedded in the model.',
    format: path,
    default: null,
    path: 'file',
  }),
  minScore: setting({
    doc: 'A detection gets the classifier\'s best class as subLabel/subScore only when that class scores at least this (0..1); below it, no sub-label.',
    format: num({ min: 0, max: 1 }),
    default: 0.3,
  }),
  topK: setting({
    doc: 'Also publish the classifier\'s best K classes of each crop (at or above minScore) as subLabels; 1 publishes subLabel/subScore only.',
    format: int({ min: 1, max: 20 }),
    default: 1,
  }),
  maxCrops: setting({
    doc: 'At most this many detections per frame are classified (the highest detector scores first); the others are published without a sub-label and counted. Bounds the time a crowded frame costs.',
    format: int({ min: 1, max: 100 }),
    default: 3,
  }),
  reuseFrames: setting({
    doc: 'A detection whose box overlaps (IoU at least 0.5) one of the same label this classifier answered for within the last N frames of the camera takes that answer instead of a new crop: a bird sitting at the feeder is classified once every N frames, not every frame, and the frame rate stays near that of detection alone. 1 classifies every detection of every frame.',
    format: int({ min: 1, max: 10_000 }),
    default: 10,
  }),
  margin: setting({
    doc: 'Context around the detection box, as a fraction of its longer side on each side, before the crop is squared (classifiers are trained on pictures with some background).',
    format: num({ min: 0, max: 1 }),
    default: 0.1,
  }),
};

export type ClassifierConfig = ValueOf<typeof classifierSchema>;

/** The top-level key: a list, each entry checked by classifierSchema in resolveClassifiers. */
export const classifiersSetting = setting({
  doc: 'Second-stage classifiers (detect, then classify): a list of entries whose keys are the `classifiers[i].` keys below, e.g. [{"objects": ["bird"], "model": {"cpu": "models/birds.tflite"}}]. Empty: detection only.',
  format: check<unknown[]>('array of classifier entries', (v) => (Array.isArray(v) ? undefined : 'must be an array of classifier entries ({"objects": [...], "model": {...}})')),
  default: [] as unknown[],
});

export interface ClassifiersResult {
  classifiers: ClassifierConfig[];
  problems: ConfigProblem[];
  paths: PathValue[];
}

/** Validates every entry (all of them, every problem reported); a label classified twice is an error. */
export function resolveClassifiers(list: unknown[], baseDir: string): ClassifiersResult {
  const out: ClassifiersResult = { classifiers: [], problems: [], paths: [] };
  const owner = new Map<string, number>();
  for (const [i, entry] of list.entries()) {
    const at = `classifiers[${i}]`;
    if (!isPlainObject(entry)) {
      out.problems.push({ key: at, message: `must be an object with "objects" and "model" (got ${show(entry)})` });
      continue;
    }
    const run = runSchema(classifierSchema, entry, { env: {}, prefix: `${at}.`, baseDir });
    out.problems.push(...run.problems);
    out.paths.push(...run.paths);
    const c = run.value;
    if (run.problems.length > 0) continue;
    if (c.model.cpu === null && c.model.edgetpu === null) {
      out.problems.push({ key: `${at}.model`, message: 'set model.cpu and/or model.edgetpu (both are null)' });
    }
    if (typeof c.model.cpu === 'string' && /_edgetpu\.tflite$/.test(c.model.cpu)) {
      out.problems.push({ key: `${at}.model.cpu`, message: 'is an Edge TPU model (*_edgetpu.tflite); the CPU needs its plain twin (*.tflite)' });
    }
    for (const label of c.objects) {
      const first = owner.get(label);
      if (first !== undefined) out.problems.push({ key: `${at}.objects`, message: `"${label}" is already classified by classifiers[${first}]: a detection gets one sub-label` });
      else owner.set(label, i);
    }
    out.classifiers.push(c);
  }
  return out;
}
