import { performance } from 'node:perf_hooks';
import type { CameraState, Frame, FrameSource } from '../camera/frame.js';
import { LatestFrameSlot } from '../camera/latest-frame-slot.js';
import type { Detector, DetectResult } from '../inference/detector.js';
import { applyFilters, type DetectionFilters } from '../inference/filters.js';
import { prepareFrame, toFrameBox, type PreparedInput } from '../inference/preprocess.js';
import type { ResizeMode } from '../pixels/resize-plan.js';
import type { Detection } from '../inference/types.js';
import { cameraTopic } from '../publish/camera-topics.js';
import { detectionsPayload } from '../publish/payloads.js';
import type { PublishOptions } from '../publish/mqtt-publisher.js';
import { InputPool } from './input-pool.js';
import { LivePreview } from './live-preview.js';
import { MotionGate, type GatedDetection } from './motion-gate.js';
import type { MotionConfig } from '../config/cameras.js';
import type { Box } from '../geometry/box.js';
import { CameraStats } from '../stats/camera-stats.js';
import type { CameraEvents } from './camera-events.js';
import type { ClassifyStage } from './classify-stage.js';
import type { Logger } from '../system/logger.js';
import { ThrottledLog } from '../system/throttled-log.js';

export interface PipelineOptions {
  camera: string;
  /** Max inferences per second for this camera; 0 = as fast as the detector goes. */
  detectFps: number;
  resize: ResizeMode;
  filters: DetectionFilters;
  publish: PublishOptions;
  /** Detect from the start (default), or start paused (a `detect/set OFF` kept from the previous run). */
  detecting?: boolean;
  /** Size and quality of the live page's picture (the snapshot settings). */
  preview?: { maxWidth: number; quality: number };
  /** Motion gating and regions (cameras.<name>.motion); absent or disabled: every frame is detected whole. */
  motion?: MotionConfig;
  /** Second-stage classifiers (detect, then classify): names what the detector found, from crops of the frame. */
  classify?: ClassifyStage;
}

/** What the pipeline needs of the publisher (the MQTT one, or a recorder in tests and bench). */
export interface DetectionSink {
  topic(...parts: string[]): string;
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): void;
}

/**
 * One camera: its source fills a latest-frame slot (capture never waits for inference), and one loop takes the
 * newest frame, prepares it, runs the shared detector and publishes the result.
 */
export class CameraPipeline {
  readonly stats = new CameraStats();
  /** The live page's picture of this camera, rendered only while someone asks for it. */
  readonly preview: LivePreview;
  private readonly slot = new LatestFrameSlot();
  private readonly problems: ThrottledLog;
  private loop: Promise<void> | undefined;
  private running = false;
  private wake: (() => void) | undefined;
  private readonly topic: string;
  private status: { state: CameraState; reason: string; ts: string } | undefined;
  private readonly prepareMs = new RecentMedian();
  /** Model-input buffers of the frames in flight (at most two) and the one being prepared. */
  private readonly inputs = new InputPool();
  private abandoned = 0;
  /** The runtime's own time per frame (as the detector reports it, without the trip to it and back). */
  private readonly runtimeMs = new RecentMedian();
  /** performance.now() of the detector's last answer (or failure), and how many answers (or failures) so far. */
  private lastAnswerAt = -Infinity;
  private answers = 0;
  /** Detection on (the `detect/set` command pauses it; capture goes on). */
  private detectOn: boolean;
  /** Wakes a paused loop: detection resumed, a snapshot is asked for, or the camera stops. */
  private resume: (() => void) | undefined;
  /** Frames taken while detection was paused, or answered after it was: set aside, neither published nor dropped. */
  private setAside = 0;
  /** Motion gating (cameras.<name>.motion.enabled): decides per frame whether and where the detector runs. */
  readonly motion: MotionGate | undefined;
  /** The last published frame's boxes: where motion gating looks again when events (and their tracker) are off. */
  private lastBoxes: Box[] = [];

  constructor(
    private opts: PipelineOptions,
    private readonly source: FrameSource,
    private readonly detector: Detector,
    private readonly sink: DetectionSink,
    /** The camera's own child logger: every line it writes names the camera. */
    private readonly log: Logger,
    /** Object events, counts and snapshots (events.enabled). */
    readonly events?: CameraEvents,
  ) {
    this.problems = new ThrottledLog(log);
    this.preview = new LivePreview({ camera: opts.camera, maxWidth: opts.preview?.maxWidth ?? 640, quality: opts.preview?.quality ?? 75 });
    this.topic = sink.topic(...cameraTopic.detections(opts.camera));
    this.detectOn = opts.detecting ?? true;
    this.motion = opts.motion?.enabled ? new MotionGate(opts.camera, opts.motion, sink) : undefined;
  }

  /** Whether frames are being detected (see setDetecting). */
  get detecting(): boolean {
    return this.detectOn;
  }

  /**
   * Pauses or resumes detection. Paused, frames are still captured and then set aside: nothing is inferred or
   * published, and the objects in view end (end events, counts 0, occupancy OFF), since nobody is looking any more.
   * A frame whose inference was under way when detection paused is set aside too.
   */
  setDetecting(on: boolean): void {
    if (on === this.detectOn) return;
    this.detectOn = on;
    this.log.info({ detect: on }, on ? 'detection resumed' : 'detection paused');
    if (on) {
      this.resumedAt = performance.now();
      this.resume?.();
    } else {
      this.events?.endAll();
    }
  }

  /**
   * Publishes the next frame, annotated, as the snapshot (the take-snapshot command). While paused it is a frame
   * nobody detected, without boxes; a source that makes frames on demand is asked for one.
   */
  requestSnapshot(): void {
    if (!this.events) return;
    this.events.requestSnapshot();
    if (!this.detectOn) this.resume?.();
  }

  /**
   * Frames set aside because detection was paused, or not detected because nothing moved (with processed and errors:
   * every frame the loop finished).
   */
  get framesSetAside(): number {
    return this.setAside + (this.motion?.totals().skipped ?? 0);
  }

  /** Applies a reloaded config's filters and detect.fps (SIGHUP): from the next frame on. */
  update(change: Pick<PipelineOptions, 'filters' | 'detectFps'>): void {
    this.opts = { ...this.opts, ...change };
  }

  /** performance.now() of the last frame published (health: are frames flowing?). */
  lastProcessedAt: number | undefined;
  /** performance.now() when detection last resumed (health: no frame published during a pause is no fault). */
  resumedAt: number | undefined;

  async start(): Promise<void> {
    this.running = true;
    this.events?.start();
    this.motion?.start();
    await this.source.start({
      frame: (frame) => {
        this.stats.totals.captured++;
        this.slot.put(frame);
      },
      skipped: (origin, reason) => {
        this.stats.totals.skipped++;
        this.problems.warn(`skip:${origin}`, { frame: origin, reason }, 'frame skipped: cannot decode');
      },
      ended: (reason) => {
        this.log.warn({ reason }, 'camera source ended');
      },
      status: (state, reason) => {
        this.status = { state, reason, ts: new Date().toISOString() };
        if (state === 'online') this.log.info({ reason }, 'camera online');
        else if (!this.running) this.log.info({ state, reason }, `camera ${state}`); // we are stopping it: no fault
        else this.log.warn({ state, reason }, `camera ${state}`);
        this.publishStatus();
      },
    });
    this.loop = this.run();
  }

  /** Stops capture, lets the frame in flight finish, and resolves when the loop is done. */
  async stop(): Promise<void> {
    this.running = false;
    await this.source.stop();
    this.slot.close();
    this.wake?.();
    this.resume?.();
    await this.loop;
    this.events?.stop();
    this.motion?.stop();
  }

  /** Closes a stats interval, with the slot's drops brought up to date. */
  snapshot(intervalSec: number): ReturnType<CameraStats['snapshot']> {
    this.counters();
    const snap = this.stats.snapshot(intervalSec);
    return this.motion ? { ...snap, motion: this.motion.snapshot(intervalSec) } : snap;
  }

  /** Counters kept current with the slot's drops and the source's restarts and stalls. */
  counters(): CameraStats['totals'] {
    const s = this.source.counters();
    this.stats.totals.restarts = s.restarts;
    this.stats.totals.stalls = s.stalls ?? 0;
    this.stats.totals.dropped = this.slot.counters().dropped + (s.dropped ?? 0) + this.abandoned;
    return this.stats.totals;
  }

  /** What the live page shows of this camera now: its state, counters and the last frames' latency. */
  live(): { state: CameraState | 'starting'; reason: string; detecting: boolean; totals: CameraStats['totals']; recent: ReturnType<CameraStats['recent']>; motion?: ReturnType<MotionGate['live']> } {
    return {
      state: this.status?.state ?? 'starting',
      reason: this.status?.reason ?? '',
      detecting: this.detectOn,
      totals: { ...this.counters() },
      recent: this.stats.recent(),
      ...(this.motion ? { motion: this.motion.live() } : {}),
    };
  }

  /** Re-sends the retained camera status (after a reconnect: the broker may have lost it). */
  publishStatus(): void {
    if (this.status) this.sink.publish(this.sink.topic(...cameraTopic.status(this.opts.camera)), JSON.stringify(this.status), { qos: 1, retain: true, offline: 'latest' });
  }

  /**
   * Takes the newest frame, prepares it and hands it to the detector without waiting for the answer; then sleeps
   * until just before that inference should end (minus the time a preparation takes) and takes the next, newest
   * frame. So the detector never idles between frames, and the frame it gets next is fresh, not one that waited a
   * whole inference. At most two frames of this camera are in flight; answers are published in order.
   */
  private async run(): Promise<void> {
    const minIntervalMs = this.opts.detectFps > 0 ? 1000 / this.opts.detectFps : 0;
    let lastStart = -Infinity;
    let previous: Promise<void> = Promise.resolve();
    while (this.running) {
      // A source that makes frames on demand makes none while paused; a camera's frames are taken and set aside below.
      if (!this.detectOn && this.source.pull && !this.events?.wantsFrame) await new Promise<void>((resolve) => (this.resume = resolve));
      if (!this.running) break;
      const wait = lastStart + minIntervalMs - performance.now();
      if (wait > 0) await this.sleep(wait);
      // For a source that makes frames on demand, making it is part of the lead before the detector needs it.
      const askedAt = performance.now();
      this.source.pull?.();
      const frame = await this.slot.take();
      if (!frame || !this.running) {
        if (frame) {
          this.abandoned++; // taken as the camera stopped: counted with the drops
          frame.release?.();
        }
        break;
      }
      if (!this.detectOn) {
        this.events?.onUndetectedFrame(frame);
        this.preview.offer(frame, []);
        this.setAside++;
        frame.release?.();
        continue;
      }
      lastStart = performance.now();
      const prepared = await this.prepare(frame, this.source.pull ? askedAt : lastStart);
      if (!prepared) {
        await new Promise((resolve) => setImmediate(resolve)); // a source that pulls never makes the loop wait: let I/O in
        continue;
      }
      const done = this.finish(frame, prepared, previous);
      const before = previous;
      previous = done;
      // At most two frames in flight: the one before this must be answered before the next is started (the sleep
      // below is no bound: with no estimate yet, or a preparation longer than the inference, it is zero).
      await before;
      // The detector took this frame up when it answered the one before (or when this one reached it, if it was idle
      // then); it should answer one runtime later. The next frame is started so that it is ready just before that.
      const answersBefore = this.answers;
      let untilNearlyDone = this.untilNearlyDone(prepared.sentAt);
      if (untilNearlyDone > 0 && !this.source.pull && !this.slot.hasPending) {
        // A camera that pushes frames, none waiting: its next frame wakes the loop anyway. With a camera slower than
        // the detector (a Coral: 3 ms inferences, a frame every 33 ms) a timer would be a wake-up a frame for nothing.
        await Promise.race([done, this.slot.arrival()]);
        untilNearlyDone = this.answers > answersBefore ? 0 : this.untilNearlyDone(prepared.sentAt);
      }
      await Promise.race([done, untilNearlyDone > 0 ? this.sleep(untilNearlyDone) : Promise.resolve()]);
    }
    await previous;
  }

  /**
   * How long until the frame sent at `sentAt` should be nearly done (minus a preparation): the detector took it up
   * when it answered the one before (or when it arrived, if it was idle then), and answers one runtime later.
   */
  private untilNearlyDone(sentAt: number): number {
    const takenUpAt = Math.max(this.lastAnswerAt, sentAt);
    return takenUpAt + this.runtimeMs.value - this.prepareMs.value - PREFETCH_MARGIN_MS - performance.now();
  }

  /** `leadFrom`: when getting this frame started (before a pull), for the estimate of how early to start the next. */
  private async prepare(frame: Frame, leadFrom: number): Promise<(PreparedInput & { pooled: boolean; startedAt: number; sentAt: number; answer: Promise<DetectResult>; gated?: GatedDetection }) | undefined> {
    const model = this.detector.model;
    const startedAt = performance.now();
    try {
      if (this.motion) return await this.prepareGated(this.motion, frame, startedAt, leadFrom);
      const out = frame.i420 ? this.inputs.take(model.inputWidth * model.inputHeight * 3) : undefined;
      const prepared = await prepareFrame(frame, model.inputWidth, model.inputHeight, this.opts.resize, out);
      const sentAt = performance.now();
      this.prepareMs.add(sentAt - leadFrom);
      const answer = this.detector.detect(prepared.data);
      // Handled in finish(); this keeps an early rejection from being reported as unhandled meanwhile.
      answer.catch(() => undefined);
      return { ...prepared, startedAt, sentAt, answer };
    } catch (err) {
      this.fail(frame, 'preprocess', err);
      frame.release?.();
      return undefined;
    }
  }

  /**
   * Motion gating: the gate plans the frame and starts its inferences (whole frame or regions, answers already in frame
   * coordinates). A frame it does not detect is finished here: shown on the live page, counted, released.
   */
  private async prepareGated(gate: MotionGate, frame: Frame, startedAt: number, leadFrom: number) {
    const gated = await gate.detect(frame, this.detector, this.opts.resize, this.events?.trackedBoxes() ?? this.lastBoxes, this.opts.filters.minScore);
    if (!gated) {
      this.lastProcessedAt = performance.now(); // a still frame looked at is a frame processed (health)
      this.preview.offer(frame, [], { motion: gate.overlay.motion });
      frame.release?.();
      return undefined;
    }
    const sentAt = performance.now();
    this.prepareMs.add(sentAt - leadFrom);
    return { data: EMPTY, geometry: IDENTITY, pooled: false, startedAt, sentAt, answer: gated.answer, gated };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Waits for the detector's answer, then filters and publishes it after the frame before it. */
  private async finish(frame: Frame, prepared: NonNullable<Awaited<ReturnType<CameraPipeline['prepare']>>>, previous: Promise<void>): Promise<void> {
    const { camera } = this.opts;
    const model = this.detector.model;
    let stage = 'inference';
    try {
      const out = await prepared.answer.finally(() => {
        this.lastAnswerAt = performance.now();
        this.answers++;
      });
      // Answered: the host has read the input. (Not after a failure: a host that timed out may not have.)
      if (prepared.pooled) this.inputs.give(prepared.data);
      const t2 = performance.now();
      this.runtimeMs.add(out.inferenceMs);
      await previous; // publish in frame order
      if (!this.detectOn) {
        this.setAside++; // answered after detection paused: its objects would start events nobody ends
        return;
      }
      stage = 'postprocess';
      const t3 = performance.now();
      const mapped: Detection[] = out.results.map((d) => (d.box ? { ...d, box: toFrameBox(d.box, prepared.geometry) } : d));
      const filtered = applyFilters(mapped, this.opts.filters);
      const classify = this.opts.classify;
      const results = classify ? await classify.apply(frame, filtered) : filtered;
      const latencyMs = {
        capture: frame.captureMs,
        preprocess: prepared.sentAt - prepared.startedAt,
        inference: t2 - prepared.sentAt,
        postprocess: 0,
        total: 0,
      };
      const payload = detectionsPayload({
        seq: frame.seq,
        camera,
        model: model.name,
        backend: out.backend,
        frame: frame.fullSize ?? { width: frame.width, height: frame.height },
        latencyMs,
        results,
        wallTime: frame.wallTime,
        ...(prepared.gated ? { regions: prepared.gated.regions, trigger: prepared.gated.trigger } : {}),
      });
      const t4 = performance.now();
      latencyMs.postprocess = t4 - t3;
      latencyMs.total = frame.captureMs + (t4 - frame.capturedAt);
      payload.latencyMs.postprocess = Math.round(latencyMs.postprocess * 100) / 100;
      payload.latencyMs.total = Math.round(latencyMs.total * 100) / 100;
      this.sink.publish(this.topic, JSON.stringify(payload), this.opts.publish);
      this.stats.recordProcessed(latencyMs);
      this.lastProcessedAt = performance.now();
      this.events?.onFrame(frame, results);
      this.lastBoxes = results.flatMap((r) => (r.box ? [r.box] : []));
      this.preview.offer(frame, results, this.motion?.overlay);
      if (this.log.isLevelEnabled('debug')) {
        this.log.debug({ seq: frame.seq, results: results.map((r) => `${r.label} ${r.score.toFixed(2)}`) }, 'detections');
      }
    } catch (err) {
      this.fail(frame, stage, err);
    } finally {
      // The frame's buffer goes back to the source's pool: nothing reads it after this.
      frame.release?.();
    }
  }

  private fail(frame: Frame, stage: string, err: unknown): void {
    this.stats.totals.errors++;
    const reason = err instanceof Error ? err.message : String(err);
    this.problems.warn(`${stage}:${reason}`, { seq: frame.seq, frame: frame.origin, stage, reason }, `frame not processed: ${stage} failed`);
  }
}

/**
 * A running estimate of a duration for scheduling the next frame: the median of the last few samples. Inference times
 * are skewed (a slow frame now and then), so a mean would start every frame early by the skew, and each would wait
 * that long; the median follows the typical frame and still adapts within a few frames.
 */
export class RecentMedian {
  private readonly samples: number[] = [];
  /** The samples sorted, kept up to date on each add (no array made or sorted per frame: this runs twice a frame). */
  private readonly sorted: number[] = [];
  private next = 0;
  constructor(private readonly size = 15) {}

  add(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const sorted = this.sorted;
    // i: the free place in the sorted copy, at its end; the new sample moves down from there to where it belongs.
    let i = sorted.length;
    if (this.samples.length < this.size) {
      this.samples.push(ms);
      sorted.push(ms);
    } else {
      // The sample that leaves: out of the sorted copy too, the ones after it moved up (no splice: it makes an array).
      const n = sorted.length;
      for (let j = sorted.indexOf(this.samples[this.next]!); j < n - 1; j++) sorted[j] = sorted[j + 1]!;
      this.samples[this.next] = ms;
      i = n - 1;
    }
    this.next = (this.next + 1) % this.size;
    while (i > 0 && sorted[i - 1]! > ms) {
      sorted[i] = sorted[i - 1]!;
      i--;
    }
    sorted[i] = ms;
  }

  /** 0 before the first sample. */
  get value(): number {
    const sorted = this.sorted;
    return sorted.length === 0 ? 0 : sorted[(sorted.length - 1) >> 1]!;
  }
}

/**
 * How much earlier than strictly needed the next frame reaches the detector: absorbs jitter in both estimates and the
 * trip to the inference process. Too little and the detector idles; too much and each frame waits that long.
 */
const PREFETCH_MARGIN_MS = 1;

/** A gated frame's answers are already in frame coordinates, and its inputs went straight to the detector. */
const IDENTITY = { ax: 1, bx: 0, ay: 1, by: 0 };
const EMPTY = Buffer.alloc(0);
