import { performance } from 'node:perf_hooks';
import type { FrameSink, FrameSource, SourceCounters } from '../camera/frame.js';

/** One picture again and again, made when the pipeline asks: the detector never waits for a camera. */
export class StillSource implements FrameSource {
  constructor(
    private readonly image: { width: number; height: number; data: Buffer },
    readonly camera = 'still',
  ) {}
  private sink: FrameSink | undefined;
  private seq = 0;
  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
  }
  async stop(): Promise<void> {
    this.sink = undefined;
  }
  counters(): SourceCounters {
    return { captured: this.seq, skipped: 0, restarts: 0 };
  }
  pull(): void {
    const now = performance.now();
    const { width, height, data } = this.image;
    this.sink?.frame({ camera: this.camera, seq: this.seq++, capturedAt: now, wallTime: Date.now(), captureMs: 0, width, height, data, origin: 'still' });
  }
}

