import type { Detector, DetectResult } from './detector.js';

/** A detector that adds something around another one's detect() and passes everything else through. */
export abstract class DetectorDecorator implements Detector {
  constructor(protected readonly inner: Detector) {}

  get backend(): Detector['backend'] {
    return this.inner.backend;
  }

  get model(): Detector['model'] {
    return this.inner.model;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  abstract detect(input: Uint8Array): Promise<DetectResult>;
}
