import type { Detector, DetectResult } from '../inference/detector.js';
import { DetectorDecorator } from '../inference/detector-decorator.js';

/**
 * The bench's self-test (`--stall-ms`): every frame waits this long on its way to the detector, as a pipeline that
 * lost time per frame would. A sound verdict must fail on it (scripts/bench-smoke.sh is shown to).
 */
export class StalledDetector extends DetectorDecorator {
  constructor(
    inner: Detector,
    private readonly stallMs: number,
  ) {
    super(inner);
  }

  async detect(input: Uint8Array): Promise<DetectResult> {
    await new Promise((r) => setTimeout(r, this.stallMs));
    return this.inner.detect(input);
  }
}
