import type { Detector, DetectResult } from './detector.js';

export interface InferenceMeter {
  recordInference(ms: number, backend: DetectResult['backend']): void;
  recordInferenceError(): void;
}

/** Counts every inference and failure of the detector it wraps, for the stats topic. */
export class MeteredDetector implements Detector {
  constructor(
    private readonly inner: Detector,
    private readonly meter: InferenceMeter,
  ) {}

  get backend(): Detector['backend'] {
    return this.inner.backend;
  }

  get model(): Detector['model'] {
    return this.inner.model;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  async detect(input: Uint8Array): Promise<DetectResult> {
    try {
      const out = await this.inner.detect(input);
      this.meter.recordInference(out.inferenceMs, out.backend);
      return out;
    } catch (err) {
      this.meter.recordInferenceError();
      throw err;
    }
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }
}
