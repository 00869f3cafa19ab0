import type { Detector, DetectResult } from './detector.js';
import { DetectorDecorator } from './detector-decorator.js';

export interface InferenceMeter {
  recordInference(ms: number, backend: DetectResult['backend']): void;
  recordInferenceError(): void;
}

/** Counts every inference and failure of the detector it wraps, for the stats topic. */
export class MeteredDetector extends DetectorDecorator {
  constructor(
    inner: Detector,
    private readonly meter: InferenceMeter,
  ) {
    super(inner);
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
}
