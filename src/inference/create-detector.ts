import { CoralDelegate, type CoralDevice } from 'coral-tflite-delegate';
import type { DetectorConfig } from '../config/index.js';
import type { Logger } from '../system/logger.js';
import { chooseThreads, rawLoopMeasure } from './auto-threads.js';
import type { Detector } from './detector.js';
import { listTpus, matchDevice, probeLibrary } from './edgetpu/probe.js';
import { FailoverDetector, type DetectorState } from './failover-detector.js';
import type { ModelPlan } from './model-plan.js';
import { planDetectorModels, twinOf, type DetectorModels } from './detector-models.js';
import { TfliteDetector } from './tflite-detector.js';

/** Below this a CPU inference is never taken for a hang (detector.inferenceTimeoutMs is for the Edge TPU). */
export const CPU_MIN_TIMEOUT_MS = 30_000;
/** An Edge TPU model load (process start included) gets at least this long. */
export const TPU_MIN_LOAD_TIMEOUT_MS = 10_000;

export function deviceList(cfg: DetectorConfig): string[] {
  return Array.isArray(cfg.edgetpu.device) ? cfg.edgetpu.device : [cfg.edgetpu.device];
}

/** Cheap checks before a TPU is loaded: the library loads (in a throwaway process) and the device is present. */
export async function probeEdgeTpu(cfg: DetectorConfig, device: string): Promise<string | undefined> {
  const lib = await probeLibrary(cfg.edgetpu.library);
  if (!lib.ok) return lib.reason;
  const found = matchDevice(device, await listTpus(cfg.edgetpu.probeRoot));
  return found.ok ? undefined : found.reason;
}

export interface DetectorHooks {
  /** Called whenever the backend changes (and once at start), for the retained detector topic. */
  onState?(state: DetectorState): void;
  /** Where `threads: 0` keeps its measurement (a file in the state directory), or null: measured at each start. */
  threadsCache?: string | null;
  /** Aborts the thread measurement (a stop while starting). */
  signal?: AbortSignal;
  /** Models already planned (a classifier's, checked to classify); else planned here from `cfg`. */
  models?: DetectorModels;
}

/**
 * Builds the detector for `detector.backend`: the CPU model alone for `cpu` (or when there is no Edge TPU model),
 * else the failover detector over the Edge TPU(s) with the CPU twin as warm standby.
 */
export async function createDetector(cfg: DetectorConfig, log: Logger, hooks: DetectorHooks = {}): Promise<Detector> {
  const { cpuPath, tpuPath, cpuPlan, tpuPlan } = hooks.models ?? (await planDetectorModels(cfg));
  // 0 (measure) is measured on the CPU model (the TPU runs its own ops; the threads only serve the few left on the CPU).
  let threads = cfg.threads === 0 ? 1 : cfg.threads;
  if (cfg.threads === 0 && cpuPath && cpuPlan) {
    const input = cpuPlan.info.inputWidth * cpuPlan.info.inputHeight * 3;
    threads = (await chooseThreads(cpuPath, hooks.threadsCache ?? null, rawLoopMeasure(cpuPath, input, hooks.signal), log, undefined, hooks.signal)).threads;
  }
  // The timeout detects a hung accelerator. A CPU inference that is slow is just slow (an SSD on a busy Pi 3 can take
  // seconds); killing its host would lose the frame and every one after it. Only a CPU host stuck for longer goes.
  const cpuTimeoutMs = Math.max(cfg.inferenceTimeoutMs, CPU_MIN_TIMEOUT_MS);
  const cpuDetector = (plan: ModelPlan): TfliteDetector =>
    new TfliteDetector(plan, { backend: 'cpu', threads, inferenceTimeoutMs: cpuTimeoutMs }, log);

  if (!tpuPath || !tpuPlan) {
    const detector = cpuDetector(cpuPlan!); // planDetectorModels guarantees a CPU model when there is no TPU one
    hooks.onState?.({ backend: 'cpu', reason: cfg.backend === 'cpu' ? 'detector.backend is cpu' : 'no Edge TPU model configured', since: new Date().toISOString(), failovers: 0, recoveries: 0, tpus: [] });
    return detector;
  }

  if (!cpuPlan) log.warn({ model: tpuPath, twin: twinOf(tpuPath) }, 'no CPU twin of the Edge TPU model: CPU fallback is impossible');
  return new FailoverDetector({
    mode: cfg.backend === 'edgetpu' ? 'edgetpu' : 'auto',
    devices: deviceList(cfg),
    recoverIntervalSec: cfg.recoverIntervalSec,
    makeTpu: (device) => {
      // The config format already checked the device string against the forms libedgetpu accepts.
      const coral = new CoralDelegate(device ? { device: device as CoralDevice } : {}, cfg.edgetpu.library);
      return new TfliteDetector(
        tpuPlan,
        {
          backend: 'edgetpu',
          threads,
          inferenceTimeoutMs: cfg.inferenceTimeoutMs,
          // Loading sends the model to the TPU (and firmware, the first time): slower than one inference. The timer also
          // covers starting the inference process, which a busy Pi takes seconds to do: hence the 10 s floor.
          loadTimeoutMs: Math.max(TPU_MIN_LOAD_TIMEOUT_MS, 5 * cfg.inferenceTimeoutMs),
          delegate: { path: coral.node!.path, options: coral.options },
          restartOnCrash: false,
        },
        log.child({ device: device || 'default' }),
      );
    },
    ...(cpuPlan ? { makeCpu: () => cpuDetector(cpuPlan) } : {}),
    probe: (device) => probeEdgeTpu(cfg, device),
    onState: (state) => hooks.onState?.(state),
    log,
  });
}
