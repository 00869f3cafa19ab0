import { cameraTopic, OFF, ON, SNAPSHOT_PRESS } from '../publish/camera-topics.js';
import type { MessageHandler, PublishOptions } from '../publish/mqtt-publisher.js';
import type { Logger } from '../system/logger.js';
import { ThrottledLog } from '../system/throttled-log.js';
import type { DetectStateStore } from './detect-state-store.js';

/** What the commands need of the publisher. */
export interface ControlLink {
  topic(...parts: string[]): string;
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): void;
  subscribe(filter: string, handler: MessageHandler): void;
  onConnect(hook: () => void): void;
}

/** What the commands act on: the camera's pipeline. */
export interface ControlledCamera {
  readonly detecting: boolean;
  setDetecting(on: boolean): void;
}

export interface CameraControlOptions {
  camera: string;
  /** Takes a snapshot of the next frame; undefined when snapshots are off (no `snapshot/set` then). */
  snapshot?: () => void;
  /** Where the detect state outlives the daemon (the state directory); undefined: it does not. */
  store?: DetectStateStore;
}

const RETAINED: PublishOptions = { qos: 1, retain: true, offline: 'latest' };
/** A payload is quoted in a warning up to this many characters: a command topic can receive anything. */
const QUOTED_MAX = 40;

/**
 * One camera's MQTT commands: `<camera>/detect/set` (`ON` / `OFF`) resumes or pauses detection and is answered on
 * the retained `<camera>/detect/state`; `<camera>/snapshot/set` (`PRESS`) publishes the next frame, annotated, on
 * `<camera>/snapshot`. Payloads are matched without regard to case or surrounding blanks; anything else changes
 * nothing and is reported in one warning that names the topic and the payload (at most one line per topic every
 * 10 s while the flood lasts). An empty payload (someone clearing a retained command) is ignored quietly, and a
 * retained command is refused: it would be carried out again at every reconnect, long after it was meant.
 */
export class CameraControl {
  private readonly problems: ThrottledLog;
  private readonly detectSet: string;
  private readonly detectState: string;
  private readonly snapshotSet: string;

  constructor(
    private readonly opts: CameraControlOptions,
    private readonly target: ControlledCamera,
    private readonly link: ControlLink,
    private readonly log: Logger,
  ) {
    this.problems = new ThrottledLog(log, 10_000);
    this.detectSet = link.topic(...cameraTopic.detectSet(opts.camera));
    this.detectState = link.topic(...cameraTopic.detectState(opts.camera));
    this.snapshotSet = link.topic(...cameraTopic.snapshotSet(opts.camera));
  }

  start(): void {
    this.link.subscribe(this.detectSet, (payload, topic, retained) => {
      const command = this.read(payload, topic, retained, [ON, OFF]);
      if (command === undefined) return;
      const on = command === ON;
      if (on !== this.target.detecting) {
        this.target.setDetecting(on);
        this.opts.store?.save(this.opts.camera, on);
      }
      this.publishState(); // answered even when nothing changed: the sender learns the state either way
    });
    const { snapshot } = this.opts;
    if (snapshot) {
      this.link.subscribe(this.snapshotSet, (payload, topic, retained) => {
        if (this.read(payload, topic, retained, [SNAPSHOT_PRESS]) !== undefined) snapshot();
      });
    }
    this.publishState();
    this.link.onConnect(() => this.publishState());
  }

  private publishState(): void {
    this.link.publish(this.detectState, this.target.detecting ? ON : OFF, RETAINED);
  }

  /** The command in `payload` if it is one of `accepted`, else undefined (after a warning, unless it was empty). */
  private read(payload: Buffer, topic: string, retained: boolean, accepted: string[]): string | undefined {
    const text = payload.toString('utf8');
    if (text.length === 0) return undefined;
    const quoted = text.length > QUOTED_MAX ? `${text.slice(0, QUOTED_MAX)}…` : text;
    if (retained) {
      this.problems.warn(
        topic,
        { topic, payload: quoted },
        `retained command on ${topic} ignored: publish commands without retain (clear this one with: mosquitto_pub -r -n -t '${topic}')`,
      );
      return undefined;
    }
    const command = text.trim().toUpperCase();
    if (accepted.includes(command)) return command;
    this.problems.warn(topic, { topic, payload: quoted, accepted }, `ignored command on ${topic}: expected ${accepted.join(' or ')}`);
    return undefined;
  }
}
