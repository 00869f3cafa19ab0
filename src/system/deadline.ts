import { performance } from 'node:perf_hooks';

/**
 * One deadline at a time (a request's, re-armed for every frame), at the cost of a timer per expiry period rather
 * than per arm: arming a later deadline than the scheduled timer leaves the timer alone, and when it fires early it
 * schedules itself for what is left. At 200 frames a second that is one timer every few seconds instead of 400
 * clearTimeout/setTimeout pairs (each a timer-list insert, and in Node a priority-queue update).
 */
export class Deadline {
  private timer: NodeJS.Timeout | undefined;
  private firesAt = Infinity;
  private due = Infinity;
  private onExpire: (() => void) | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** `onExpire` runs `ms` from now unless arm or clear comes first (it replaces any earlier deadline). */
  arm(ms: number, onExpire: () => void): void {
    const now = this.now();
    this.due = now + ms;
    this.onExpire = onExpire;
    if (this.timer && this.firesAt <= this.due) return;
    this.schedule(now, ms);
  }

  /** Nothing expires any more (a timer already scheduled fires and finds nothing to do). */
  clear(): void {
    this.due = Infinity;
    this.onExpire = undefined;
  }

  /** clear, and the timer too: for when its owner is done (so that no timer outlives it). */
  stop(): void {
    this.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(now: number, ms: number): void {
    clearTimeout(this.timer);
    this.firesAt = now + ms;
    this.timer = setTimeout(this.fire, ms);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    if (!this.onExpire) return;
    const now = this.now();
    // setTimeout rounds to whole milliseconds: a deadline less than one away counts as reached.
    if (this.due - now >= 1) {
      this.schedule(now, this.due - now);
      return;
    }
    const expire = this.onExpire;
    this.clear();
    expire();
  };
}
