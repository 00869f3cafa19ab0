import { existsSync } from 'node:fs';
import { CoralDelegate, type CoralDevice } from 'coral-tflite-delegate';
import type { DetectorConfig } from '../config/index.js';
import type { Logger } from '../system/logger.js';
import type { Detector } from './detector.js';
import { planModel } from './model-plan.js';
import { TfliteDetector } from './tflite-detector.js';

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

/**
 * Builds the detector for `detector.backend`. Until the Edge TPU supervisor lands, `auto` means the CPU model; an
 * explicit `edgetpu` loads the delegate in the host process, where a libedgetpu fault cannot reach the daemon.
 */
export async function createDetector(cfg: DetectorConfig, log: Logger): Promise<Detector> {
  const planOpts = { kind: cfg.kind, labelsPath: cfg.labels, topK: cfg.topK };
  if (cfg.backend === 'edgetpu') {
    if (!cfg.model.edgetpu) throw new Error('detector.backend is "edgetpu" but detector.model.edgetpu is not set');
    const plan = await planModel(cfg.model.edgetpu, planOpts);
    // The config format already checked the device string against the forms libedgetpu accepts.
    const coral = new CoralDelegate(cfg.edgetpu.device ? { device: cfg.edgetpu.device as CoralDevice } : {}, cfg.edgetpu.library);
    const delegate = { path: coral.node!.path, options: coral.options };
    return new TfliteDetector(plan, { backend: 'edgetpu', threads: cfg.threads, inferenceTimeoutMs: cfg.inferenceTimeoutMs, delegate }, log);
  }
  const cpuPath = cpuModelPath(cfg);
  if (!cpuPath) {
    throw new Error(`no CPU model: set detector.model.cpu (the CPU twin of ${cfg.model.edgetpu ?? 'the Edge TPU model'}, ${cfg.model.edgetpu ? twinOf(cfg.model.edgetpu) : 'x.tflite'})`);
  }
  if (cfg.backend === 'auto' && cfg.model.edgetpu) {
    log.info({ model: cpuPath }, 'detector.backend auto: running on the CPU (automatic Edge TPU selection is not built yet)');
  }
  const plan = await planModel(cpuPath, planOpts);
  return new TfliteDetector(plan, { backend: 'cpu', threads: cfg.threads, inferenceTimeoutMs: cfg.inferenceTimeoutMs }, log);
}
