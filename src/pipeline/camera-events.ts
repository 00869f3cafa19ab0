import type { Frame } from '../camera/frame.js';
import { ObjectTracker, type TrackerEvent, type TrackerOptions } from '../events/index.js';
import { OCCUPANCY_OFF, OCCUPANCY_ON, topicLevel } from '../homeassistant/discovery.js';
import type { Detection } from '../inference/types.js';
import type { PublishOptions } from '../publish/mqtt-publisher.js';
import { renderSnapshot } from '../snapshots/render.js';
import type { SnapshotStore } from '../snapshots/store.js';
import type { Logger } from '../system/logger.js';

/** What the events need of the publisher. */
export interface EventSink {
  topic(...parts: string[]): string;
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): void;
}

export interface CameraEventsOptions {
  camera: string;
  tracker: Omit<TrackerOptions, 'nextId'> & { nextId?: TrackerOptions['nextId'] };
  /** Labels whose counts exist from the start (zeroed at start-up). */
  labels: string[];
  snapshots: { enabled: boolean; maxWidth: number; quality: number; store?: SnapshotStore };
  /** Events are detections too: through the outbox, at the detections' QoS. */
  eventPublish: PublishOptions;
}

const RETAINED: PublishOptions = { qos: 1, retain: true, offline: 'latest' };

/**
 * One camera's objects over time: tracks detections into events (new / update / end), keeps per-label and per-zone
 * counts and occupancy on retained topics (zeroed at start and when the last object leaves: never a stale "on"),
 * and publishes a snapshot with boxes when an event starts or its best score improves.
 */
export class CameraEvents {
  private readonly tracker: ObjectTracker;
  private readonly published = new Map<string, string>();
  private snapshotBusy = false;
  /** The latest annotated frame, for the live page. */
  latestSnapshot: { camera: string; jpeg: Buffer; ts: string } | undefined;

  constructor(
    private readonly opts: CameraEventsOptions,
    private readonly sink: EventSink,
    private readonly log: Logger,
  ) {
    this.tracker = new ObjectTracker(opts.camera, opts.tracker);
  }

  /** Zero counts and occupancy: whatever a previous run left retained is not true any more. */
  start(): void {
    for (const label of this.opts.labels) this.retain(this.sink.topic(this.opts.camera, topicLevel(label)), '0');
    this.publishCounts(true);
  }

  /** Re-sends the retained state (after a reconnect: the broker may have lost it). */
  republish(): void {
    for (const [topic, value] of this.published) this.sink.publish(topic, value, RETAINED);
  }

  onFrame(frame: Frame, results: Detection[]): void {
    const ts = new Date(frame.wallTime).toISOString();
    const events = this.tracker.update(results, { seq: frame.seq, ts });
    let snapshotFor: TrackerEvent | undefined;
    for (const ev of events) {
      this.sink.publish(this.sink.topic(this.opts.camera, 'events'), JSON.stringify(ev), this.opts.eventPublish);
      if (ev.type === 'new' || (ev.type === 'update' && ev.score >= ev.topScore)) snapshotFor ??= ev;
    }
    if (events.length > 0) this.publishCounts(false);
    if (snapshotFor && this.opts.snapshots.enabled) this.snapshot(frame, results, snapshotFor);
  }

  /** Ends every object (shutdown): end events, counts back to 0. */
  stop(): void {
    for (const ev of this.tracker.endAll(new Date().toISOString())) {
      this.sink.publish(this.sink.topic(this.opts.camera, 'events'), JSON.stringify(ev), this.opts.eventPublish);
    }
    this.publishCounts(false);
  }

  private publishCounts(force: boolean): void {
    const { total, zones } = this.tracker.counts();
    let any = false;
    for (const [label, n] of Object.entries(total)) {
      any ||= n > 0;
      this.retain(this.sink.topic(this.opts.camera, topicLevel(label)), String(n), force);
    }
    for (const [zone, labels] of Object.entries(zones)) {
      for (const [label, n] of Object.entries(labels)) this.retain(this.sink.topic(this.opts.camera, 'zones', topicLevel(zone), topicLevel(label)), String(n), force);
    }
    this.retain(this.sink.topic(this.opts.camera, 'occupancy'), any ? OCCUPANCY_ON : OCCUPANCY_OFF, force);
  }

  private retain(topic: string, value: string, force = false): void {
    if (!force && this.published.get(topic) === value) return;
    this.published.set(topic, value);
    this.sink.publish(topic, value, RETAINED);
  }

  /**
   * Renders off the hot path: the frame's pixels are copied now (the frame goes back to its pool right after), the
   * JPEG is made by libvips in its thread pool. One at a time: a burst of events does not queue up renders.
   */
  private snapshot(frame: Frame, results: Detection[], ev: TrackerEvent): void {
    if (this.snapshotBusy) return;
    this.snapshotBusy = true;
    const image = { width: frame.width, height: frame.height, data: Buffer.from(frame.data) };
    const boxes = results.filter((r) => r.box).map((r) => ({ box: r.box!, label: r.label, score: r.score }));
    const ts = new Date(frame.wallTime).toISOString();
    renderSnapshot(image, boxes, { maxWidth: this.opts.snapshots.maxWidth, quality: this.opts.snapshots.quality })
      .then(async (jpeg) => {
        this.latestSnapshot = { camera: this.opts.camera, jpeg, ts };
        this.sink.publish(this.sink.topic(this.opts.camera, 'snapshot'), jpeg, RETAINED);
        await this.opts.snapshots.store?.save(this.opts.camera, ev.id, jpeg, frame.wallTime);
      })
      .catch((err: Error) => this.log.warn({ event: ev.id, err: err.message }, 'snapshot failed'))
      .finally(() => {
        this.snapshotBusy = false;
      });
  }
}
