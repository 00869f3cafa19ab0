import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from '../system/logger.js';

/**
 * Whether each camera detects, kept in the state directory, so that detection switched off (`detect/set OFF`) stays
 * off across a restart, a crash or a power cut: someone who turned it off for privacy must not find it back on
 * after an update. It is read before the cameras start, so a paused camera never detects a single frame at start-up
 * (reading the retained `detect/state` back from the broker would leave a window until the broker answers, and no
 * answer at all while the broker is down). Without a state directory nothing is kept: every camera starts detecting.
 *
 * Written rarely (a command), small, and whole or not at all (written to a temporary name, then renamed).
 */
export class DetectStateStore {
  private states: Record<string, boolean> = {};

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  /** The saved states, by camera; a missing file is none, a damaged one is reported and ignored. */
  load(): Record<string, boolean> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ file: this.file, err: (err as Error).message }, 'cannot read the saved detect states; every camera detects');
      return (this.states = {});
    }
    try {
      const parsed = JSON.parse(text) as { cameras?: unknown };
      const cameras = parsed.cameras && typeof parsed.cameras === 'object' ? (parsed.cameras as Record<string, unknown>) : {};
      this.states = Object.fromEntries(Object.entries(cameras).filter((e): e is [string, boolean] => typeof e[1] === 'boolean'));
    } catch (err) {
      this.log.warn({ file: this.file, err: (err as Error).message }, 'saved detect states are not valid JSON; every camera detects');
      this.states = {};
    }
    return { ...this.states };
  }

  save(camera: string, detecting: boolean): void {
    this.states[camera] = detecting;
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify({ v: 1, cameras: this.states })}\n`);
      renameSync(tmp, this.file);
    } catch (err) {
      this.log.warn({ file: this.file, err: (err as Error).message }, 'cannot save the detect state: it holds until the daemon stops, not across a restart');
    }
  }
}
