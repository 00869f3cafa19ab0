import type { ClassifierConfig, DetectorConfig } from '../../config/index.js';
import type { Logger } from '../../system/logger.js';
import { createDetector } from '../create-detector.js';
import type { Detector, DetectResult } from '../detector.js';
import type { DetectorState } from '../failover-detector.js';
import type { Backend } from '../types.js';
import { classifierDetectorConfig, classifierName, planClassifierModels } from './classifier-models.js';

/** What the detector topic and the stats say of one classifier. */
export interface ClassifierState {
  name: string;
  objects: string[];
  /** `failed`: its model could not load; detection goes on without it (reason says why). */
  state: 'starting' | 'running' | 'failed' | 'stopped';
  backend: Backend | 'none';
  reason: string;
  since: string;
}

/** What the pipeline's classify stage needs of a classifier (a fake in unit tests). */
export interface CropClassifier {
  readonly name: string;
  readonly config: ClassifierConfig;
  /** Loaded and answering: crops are sent to it. */
  readonly ready: boolean;
  /** The model input the crops are resized to. */
  inputSize(): { width: number; height: number };
  /** The classifier's top-K on one crop (packed RGB at inputSize). */
  classify(rgb: Uint8Array): Promise<DetectResult>;
}

/**
 * One second-stage classifier: its models planned and run through createDetector, so it gets the same inference
 * host (a child process per backend) and the same Edge TPU -> CPU fallback as the detector. A classifier that cannot
 * load is `failed`, never fatal: detection goes on and the state says why.
 */
export class Classifier implements CropClassifier {
  readonly name: string;
  private detector: Detector | undefined;
  private current: ClassifierState;
  private stopped = false;

  constructor(
    readonly config: ClassifierConfig,
    private readonly index: number,
    private readonly detectorConfig: DetectorConfig,
    private readonly log: Logger,
    private readonly onState: (state: ClassifierState) => void = () => undefined,
    all: ClassifierConfig[] = [],
  ) {
    this.name = classifierName(config, index, all);
    this.current = { name: this.name, objects: config.objects, state: 'starting', backend: 'none', reason: 'loading the model', since: new Date().toISOString() };
  }

  get state(): ClassifierState {
    return { ...this.current };
  }

  get ready(): boolean {
    return this.current.state === 'running' && this.detector !== undefined;
  }

  inputSize(): { width: number; height: number } {
    const m = this.detector!.model;
    return { width: m.inputWidth, height: m.inputHeight };
  }

  /** Loads the model; never rejects (a failure is the `failed` state, logged and published). */
  async start(signal?: AbortSignal): Promise<void> {
    try {
      const cfg = classifierDetectorConfig(this.detectorConfig, this.config);
      const models = await planClassifierModels(this.detectorConfig, this.config, this.index);
      const detector = await createDetector(cfg, this.log, {
        models,
        threadsCache: null,
        ...(signal ? { signal } : {}),
        // The failover's changes (Edge TPU lost, CPU twin, TPU back), once this classifier has a detector.
        onState: (s: DetectorState) => {
          if (this.detector && !this.stopped) this.set(s.backend === 'none' ? 'failed' : 'running', s.backend, s.reason);
        },
      });
      this.detector = detector;
      if (this.stopped) throw new Error('stopped while starting');
      await detector.start();
      if (this.current.state !== 'running') this.set('running', detector.backend, `running on the ${detector.backend === 'edgetpu' ? 'Edge TPU' : 'CPU'} (${detector.model.name})`);
      this.log.info({ classifier: this.name, objects: this.config.objects, backend: detector.backend, model: detector.model.name }, 'classifier ready');
    } catch (err) {
      const reason = `cannot load classifier ${this.name}: ${(err as Error).message}; detection goes on without sub-labels`;
      await this.detector?.stop().catch(() => undefined);
      this.detector = undefined;
      if (!this.stopped) {
        this.set('failed', 'none', reason);
        this.log.error({ classifier: this.name, reason }, 'classifier failed to load; detection goes on without it');
      }
    }
  }

  classify(rgb: Uint8Array): Promise<DetectResult> {
    if (!this.detector || !this.ready) return Promise.reject(new Error(`classifier ${this.name} is not running`));
    return this.detector.detect(rgb);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.detector?.stop();
    if (this.current.state !== 'failed') this.set('stopped', 'none', 'stopped');
  }

  private set(state: ClassifierState['state'], backend: ClassifierState['backend'], reason: string): void {
    if (this.current.state === state && this.current.backend === backend && this.current.reason === reason) return;
    this.current = { ...this.current, state, backend, reason, since: new Date().toISOString() };
    this.onState(this.state);
  }
}
