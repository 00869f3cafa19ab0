import type { ClassifierConfig, DetectorConfig } from '../../config/index.js';
import type { Logger } from '../../system/logger.js';
import { Classifier, type ClassifierState } from './classifier.js';

/**
 * The configured classifiers of a daemon. They load in the background, each on its own: detection starts without
 * waiting for them, and one that fails to load is reported (log, detector topic, stats) while the others and the
 * detector go on. Its crops are simply not classified until a restart with a model that loads.
 */
export class ClassifierSet {
  readonly all: Classifier[];
  private starting: Promise<void> | undefined;

  constructor(configs: ClassifierConfig[], detector: DetectorConfig, log: Logger, onChange: () => void) {
    this.all = configs.map((c, i) => new Classifier(c, i, detector, log, onChange, configs));
  }

  get size(): number {
    return this.all.length;
  }

  get names(): string[] {
    return this.all.map((c) => c.name);
  }

  /** Starts loading every classifier; resolves when all are running or failed (never rejects). */
  start(signal?: AbortSignal): Promise<void> {
    this.starting ??= Promise.all(this.all.map((c) => c.start(signal))).then(() => undefined);
    return this.starting;
  }

  states(): ClassifierState[] {
    return this.all.map((c) => c.state);
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((c) => c.stop().catch(() => undefined)));
  }
}
