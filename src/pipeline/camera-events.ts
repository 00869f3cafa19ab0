import type { Frame } from '../camera/frame.js';
import { ObjectTracker, type TrackerEvent, type TrackerOptions } from '../events/index.js';
import type { Box, Detection } from '../inference/types.js';
import { CAMERA_LEVELS, cameraTopic, legacyCountTopic, OFF, ON, topicLevel } from '../publish/camera-topics.js';
import type { MessageHandler, PublishOptions } from '../publish/mqtt-publisher.js';
import { renderSnapshot } from '../snapshots/render.js';
import type { SnapshotStore } from '../snapshots/store.js';
import type { Logger } from '../system/logger.js';

/** What the events need of the publisher. */
export interface EventSink {
  topic(...parts: string[]): string;
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): void;
  /** Reads back the counts a previous run left retained (see start()); without it they are not checked. */
  subscribe?(filter: string, handler: MessageHandler): void;
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
 * and publishes a snapshot with boxes when an event starts or its best score improves, or when one is asked for.
 */
export class CameraEvents {
  private readonly tracker: ObjectTracker;
  private readonly published = new Map<string, string>();
  private snapshotBusy = false;
  private snapshotRequested = false;
  private lastSubLabel: { id: string; subLabel: string } | undefined;

  constructor(
    private readonly opts: CameraEventsOptions,
    private readonly sink: EventSink,
    private readonly log: Logger,
  ) {
    this.tracker = new ObjectTracker(opts.camera, opts.tracker);
  }

  /**
   * Zero counts and occupancy: whatever a previous run left retained is not true any more. The configured labels are
   * known; labels and zones seen only at run time are read back from the broker (it hands over what it retains when
   * we subscribe) and zeroed as they arrive, so a crash (SIGKILL, power cut) leaves no count standing at "3".
   */
  start(): void {
    const { camera } = this.opts;
    for (const label of this.opts.labels) {
      this.retain(this.topic(cameraTopic.count(camera, label)), '0');
      // Counts used to live at <camera>/<label>: clear those, so nobody keeps reading a number that no longer moves.
      if (!CAMERA_LEVELS.has(topicLevel(label))) this.sink.publish(this.topic(legacyCountTopic(camera, label)), '', RETAINED);
    }
    this.publishCounts(true);
    const zeroStale: MessageHandler = (payload, topic, retained) => {
      if (!retained || payload.length === 0 || this.published.has(topic) || payload.toString() === '0') return;
      this.retain(topic, '0');
      this.log.info({ topic, was: payload.toString().slice(0, 20) }, 'count left by a previous run set to 0');
    };
    this.sink.subscribe?.(this.topic(cameraTopic.countFilter(camera)), zeroStale);
    this.sink.subscribe?.(this.topic(cameraTopic.zoneCountFilter(camera)), zeroStale);
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
      this.publishEvent(ev);
      if (ev.type !== 'end') this.publishSubLabel(ev);
      if (ev.type === 'new' || (ev.type === 'update' && ev.score >= ev.topScore)) snapshotFor ??= ev;
    }
    if (events.length > 0) this.publishCounts(false);
    if (!this.opts.snapshots.enabled) return;
    if (snapshotFor) this.snapshot(frame, results, snapshotFor.id);
    else if (this.snapshotRequested) this.snapshot(frame, results, MANUAL_SNAPSHOT_ID);
  }

  /** Boxes of the objects tracked now (motion gating detects there again). */
  trackedBoxes(): Box[] {
    return this.tracker.boxes();
  }

  /** Asks for a snapshot of the next frame, whatever is in it (the "take snapshot" command). */
  requestSnapshot(): void {
    this.snapshotRequested = true;
  }

  /** Whether a frame that is not being detected (detection paused) is wanted for a requested snapshot. */
  get wantsFrame(): boolean {
    return this.snapshotRequested && this.opts.snapshots.enabled && !this.snapshotBusy;
  }

  /** A frame that was not detected (detection paused): used only for a requested snapshot, without boxes. */
  onUndetectedFrame(frame: Frame): void {
    if (this.wantsFrame) this.snapshot(frame, [], MANUAL_SNAPSHOT_ID);
  }

  /** Ends every object (shutdown, or detection paused): end events, counts back to 0, occupancy OFF. */
  endAll(): void {
    for (const ev of this.tracker.endAll(new Date().toISOString())) this.publishEvent(ev);
    this.publishCounts(false);
  }

  stop(): void {
    this.endAll();
  }

  private topic(levels: string[]): string {
    return this.sink.topic(...levels);
  }

  /** `event_type` repeats `type` for Home Assistant's event entity, which reads that name; `type` stays for everyone else. */
  private publishEvent(ev: TrackerEvent): void {
    this.sink.publish(this.topic(cameraTopic.events(this.opts.camera)), JSON.stringify({ ...ev, event_type: ev.type }), this.opts.eventPublish);
  }

  /** The camera's last sub-label (Home Assistant's sensor), when an event brings a new one. */
  private publishSubLabel(ev: TrackerEvent): void {
    if (ev.subLabel === undefined) return;
    const topic = this.topic(cameraTopic.subLabel(this.opts.camera));
    const last = this.lastSubLabel;
    if (last && last.id === ev.id && last.subLabel === ev.subLabel) return;
    this.lastSubLabel = { id: ev.id, subLabel: ev.subLabel };
    const ts = ev.type === 'new' ? ev.startTime : new Date().toISOString();
    this.sink.publish(topic, JSON.stringify({ subLabel: ev.subLabel, subScore: ev.subScore, label: ev.label, id: ev.id, ts }), RETAINED);
  }

  private publishCounts(force: boolean): void {
    const { camera } = this.opts;
    const { total, zones } = this.tracker.counts();
    let any = false;
    for (const [label, n] of Object.entries(total)) {
      any ||= n > 0;
      this.retain(this.topic(cameraTopic.count(camera, label)), String(n), force);
    }
    for (const [zone, labels] of Object.entries(zones)) {
      for (const [label, n] of Object.entries(labels)) this.retain(this.topic(cameraTopic.zoneCount(camera, zone, label)), String(n), force);
    }
    this.retain(this.topic(cameraTopic.occupancy(camera)), any ? ON : OFF, force);
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
  private snapshot(frame: Frame, results: Detection[], id: string): void {
    if (this.snapshotBusy) return;
    this.snapshotBusy = true;
    this.snapshotRequested = false; // any snapshot answers a request: it is of a frame after the request
    const image = { width: frame.width, height: frame.height, data: Buffer.from(frame.data) };
    const boxes = results.filter((r) => r.box).map((r) => ({ box: r.box!, label: r.label, score: r.score }));
    renderSnapshot(image, boxes, { maxWidth: this.opts.snapshots.maxWidth, quality: this.opts.snapshots.quality })
      .then(async (jpeg) => {
        this.sink.publish(this.topic(cameraTopic.snapshot(this.opts.camera)), jpeg, RETAINED);
        await this.opts.snapshots.store?.save(this.opts.camera, id, jpeg, frame.wallTime);
      })
      .catch((err: Error) => this.log.warn({ event: id, err: err.message }, 'snapshot failed'))
      .finally(() => {
        this.snapshotBusy = false;
      });
  }
}

/** The event id in the file name of a snapshot taken on request (snapshots.dir). */
const MANUAL_SNAPSHOT_ID = 'manual';
