import { performance } from 'node:perf_hooks';
import type { Detector, DetectResult } from '../inference/detector.js';
import { DetectorDecorator } from '../inference/detector-decorator.js';
import { SampleSet } from './stats.js';

/**
 * Wraps the pipeline's detector to time it from the outside, whatever the pipeline does inside: the interval between
 * consecutive answers is the pipeline's per-frame time (its frame period when the camera outruns it), and the gap
 * between an answer and the next request, when no request was waiting, is time the detector sat idle because the
 * pipeline was not feeding it. Start and stop go to the wrapped detector untouched.
 */
export class TimedDetector extends DetectorDecorator {
  /** Interval between one answer and the next. */
  readonly periodMs = new SampleSet();
  /** Per request: time since the last answer when nothing was in flight, else 0. */
  readonly idleMs = new SampleSet();
  /** The runtime's own time per frame as the host measured it (its \`infer()\`, nothing around it). */
  readonly runtimeMs = new SampleSet();
  /** Time spent handing frames over (the synchronous part of detect(): the write to the host), in total. */
  handOverMs = 0;
  /**
   * The runtime's CPU time (the host's CPU during its invoke), in total, and the answers that carried it. Under load
   * a preempted invoke's wall time exceeds its CPU time; this is what the host's CPU is to be compared with.
   */
  invokeCpuMs = 0;
  invokeCpuAnswers = 0;
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private lastAnswerAt: number | undefined;

  constructor(inner: Detector) {
    super(inner);
  }

  /** Samples count from now on (everything before was warm-up); `clear` false keeps earlier windows' samples. */
  begin(clear = true): void {
    this.periodMs.begin(clear);
    this.idleMs.begin(clear);
    this.runtimeMs.begin(clear);
  }

  /** Requests not yet answered. */
  get inFlight(): number {
    return this.pending;
  }

  /** Resolves once nothing is in flight. */
  async idle(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * The pipeline was paused: the next answer's interval and the next request's idle gap would span the pause, and
   * are not the pipeline's own.
   */
  forgetLastAnswer(): void {
    this.lastAnswerAt = undefined;
  }

  end(): void {
    this.periodMs.end();
    this.idleMs.end();
    this.runtimeMs.end();
  }

  async detect(input: Uint8Array): Promise<DetectResult> {
    const askedAt = performance.now();
    // A request made while another is in flight found the detector busy: zero idle for this frame.
    if (this.lastAnswerAt !== undefined) this.idleMs.add(this.pending === 0 ? askedAt - this.lastAnswerAt : 0);
    this.pending++;
    try {
      // What detect() does before it returns its promise is the frame's trip to the inference host (the write).
      const answer = this.inner.detect(input);
      this.handOverMs += performance.now() - askedAt;
      const out = await answer;
      this.runtimeMs.add(out.inferenceMs);
      if (out.invokeCpuMs !== undefined) {
        this.invokeCpuMs += out.invokeCpuMs;
        this.invokeCpuAnswers++;
      }
      return out;
    } finally {
      this.pending--;
      const answeredAt = performance.now();
      if (this.lastAnswerAt !== undefined) this.periodMs.add(answeredAt - this.lastAnswerAt);
      this.lastAnswerAt = answeredAt;
      if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }
}
