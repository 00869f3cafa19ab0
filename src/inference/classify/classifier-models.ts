import { basename } from 'node:path';
import type { ClassifierConfig, ConfigProblem, DetectorConfig } from '../../config/index.js';
import { DetectorModelError, planDetectorModels, type DetectorModels } from '../detector-models.js';

/**
 * A classifier runs through the same model planning and the same Edge TPU -> CPU failover as the detector: it is
 * described to them as a detector config of its own, with the detector's runtime settings (threads, Edge TPU device
 * and library, timeouts) and the classifier's model, labels and top-K.
 */
export function classifierDetectorConfig(detector: DetectorConfig, c: ClassifierConfig): DetectorConfig {
  return {
    ...detector,
    // A classifier never stops the daemon from starting: with backend edgetpu it starts on whatever works.
    backend: detector.backend === 'cpu' ? 'cpu' : 'auto',
    model: { cpu: c.model.cpu, edgetpu: c.model.edgetpu },
    labels: c.labels,
    kind: 'auto',
    // 0 (measure) is the detector's measurement; the classifier takes one thread rather than a second measurement.
    threads: detector.threads === 0 ? 1 : detector.threads,
    topK: Math.max(c.topK, 1),
    edgetpu: { ...detector.edgetpu, ...(c.edgetpuDevice !== null ? { device: c.edgetpuDevice } : {}) },
  };
}

/** The name a classifier goes by in logs, stats, metrics and the detector topic: its model file, without .tflite. */
export function classifierName(c: ClassifierConfig, index: number, all: ClassifierConfig[] = []): string {
  const file = basename(c.model.cpu ?? c.model.edgetpu ?? `classifier${index}`).replace(/(_edgetpu)?\.tflite$/, '');
  const same = all.filter((o, j) => j !== index && basename(o.model.cpu ?? o.model.edgetpu ?? '').replace(/(_edgetpu)?\.tflite$/, '') === file);
  return same.length > 0 ? `${file}#${index}` : file;
}

/** Plans a classifier's models as the start will (headers, outputs, labels; nothing run), and checks it classifies. */
export async function planClassifierModels(detector: DetectorConfig, c: ClassifierConfig, index: number): Promise<DetectorModels> {
  const at = `classifiers[${index}]`;
  const models = await planDetectorModels(classifierDetectorConfig(detector, c), at);
  for (const [plan, key] of [[models.cpuPlan, `${at}.model.cpu`], [models.tpuPlan, `${at}.model.edgetpu`]] as const) {
    if (plan && plan.info.kind !== 'classification') {
      throw new DetectorModelError(key, `${plan.info.path} is an SSD detector, not a classifier: a classifier has one output [1, N] of class scores`);
    }
  }
  return models;
}

/** The config problems of every classifier's models, reported like the detector's (check-config, reload, start). */
export async function classifierModelProblems(detector: DetectorConfig, classifiers: ClassifierConfig[]): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  for (const [i, c] of classifiers.entries()) {
    try {
      await planClassifierModels(detector, c, i);
    } catch (err) {
      if (err instanceof DetectorModelError) problems.push({ key: err.key, message: err.message });
      else throw err;
    }
  }
  return problems;
}
