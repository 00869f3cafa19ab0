import { existsSync } from 'node:fs';
import type { ConfigProblem, DetectorConfig } from '../config/index.js';
import { ModelFileError } from './model/errors.js';
import { ModelPlanError, planModel, type ModelPlan } from './model-plan.js';

/** Coral publishes every model twice: x.tflite for the CPU and x_edgetpu.tflite for the TPU. */
export function twinOf(path: string): string {
  return path.endsWith('_edgetpu.tflite') ? path.replace(/_edgetpu\.tflite$/, '.tflite') : path.replace(/\.tflite$/, '_edgetpu.tflite');
}

/** The CPU model to run: the configured one, else the CPU twin of the Edge TPU model when it exists beside it. */
export function cpuModelPath(cfg: DetectorConfig): string | undefined {
  if (cfg.model.cpu) return cfg.model.cpu;
  if (cfg.model.edgetpu) {
    const twin = twinOf(cfg.model.edgetpu);
    if (existsSync(twin)) return twin;
  }
  return undefined;
}

/** The Edge TPU model: the configured one, else the `_edgetpu` twin of the CPU model when it exists beside it. */
export function edgetpuModelPath(cfg: DetectorConfig): string | undefined {
  if (cfg.model.edgetpu) return cfg.model.edgetpu;
  if (cfg.model.cpu) {
    const twin = twinOf(cfg.model.cpu);
    if (existsSync(twin)) return twin;
  }
  return undefined;
}

/** A model or labels file the detector cannot use, with the config key that names it. */
export class DetectorModelError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'DetectorModelError';
  }
}

export interface DetectorModels {
  cpuPath?: string;
  tpuPath?: string;
  cpuPlan?: ModelPlan;
  tpuPlan?: ModelPlan;
}

/**
 * Reads and plans the models `detector` (or a classifier entry, whose config keys start with `at`) names (headers, outputs, labels; nothing is run), exactly as the daemon
 * will at start: check-config, a reload and the start all go through here, so what one accepts the other runs.
 */
export async function planDetectorModels(cfg: DetectorConfig, at = 'detector'): Promise<DetectorModels> {
  const planOpts = { kind: cfg.kind, labelsPath: cfg.labels, topK: cfg.topK };
  const cpuPath = cpuModelPath(cfg);
  const tpuPath = cfg.backend === 'cpu' ? undefined : edgetpuModelPath(cfg);
  const plan = async (path: string, key: string): Promise<ModelPlan> => {
    try {
      return await planModel(path, planOpts);
    } catch (err) {
      if (!(err instanceof ModelFileError || err instanceof ModelPlanError)) throw err;
      throw new DetectorModelError(cfg.labels !== null && err.file === cfg.labels ? `${at}.labels` : key, err.message);
    }
  };
  const cpuKey = cfg.model.cpu ? `${at}.model.cpu` : `${at}.model.edgetpu`;
  const cpuPlan = cpuPath ? await plan(cpuPath, cpuKey) : undefined;
  if (cpuPlan?.description.edgetpu) {
    throw new DetectorModelError(cpuKey, `${cpuPath} is compiled for the Edge TPU (it holds an edgetpu-custom-op): the CPU cannot run it; use its CPU twin (the same name without _edgetpu)`);
  }
  if (!tpuPath) {
    if (cfg.backend === 'edgetpu') {
      throw new DetectorModelError(`${at}.model.edgetpu`, `detector.backend is "edgetpu" but ${at}.model.edgetpu is not set (and no _edgetpu twin of ${at}.model.cpu exists)`);
    }
    if (!cpuPlan) throw new DetectorModelError(`${at}.model.cpu`, `no model: set ${at}.model.cpu`);
    return { cpuPath: cpuPath!, cpuPlan };
  }
  const tpuPlan = await plan(tpuPath, cfg.model.edgetpu ? `${at}.model.edgetpu` : `${at}.model.cpu`);
  if (cpuPlan && (cpuPlan.info.inputWidth !== tpuPlan.info.inputWidth || cpuPlan.info.inputHeight !== tpuPlan.info.inputHeight || cpuPlan.info.kind !== tpuPlan.info.kind)) {
    throw new DetectorModelError(cpuKey, `${cpuPath} is not the CPU twin of ${tpuPath}: their inputs or kinds differ`);
  }
  return { ...(cpuPath ? { cpuPath } : {}), tpuPath, ...(cpuPlan ? { cpuPlan } : {}), tpuPlan };
}

/** The config problems of the detector's models, for check-config and the start (exit 78 rather than 1). */
export async function modelProblems(cfg: DetectorConfig): Promise<ConfigProblem[]> {
  try {
    await planDetectorModels(cfg);
    return [];
  } catch (err) {
    if (err instanceof DetectorModelError) return [{ key: err.key, message: err.message }];
    throw err;
  }
}
