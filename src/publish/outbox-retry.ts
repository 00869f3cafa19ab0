/**
 * Calls `attempt` after `firstMs`, and again after twice as long each time it fails, up to `maxMs`: how the outbox
 * tries its disk again after ENOSPC or EIO, often enough to be back soon after space is freed, rarely enough not to
 * hammer a failing SD card. The timer is unref'd: it never keeps the process alive.
 */
export class RetryTimer {
  private timer: NodeJS.Timeout | undefined;
  private delay: number;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
    /** Returns whether it worked. */
    private readonly attempt: () => boolean,
  ) {
    this.delay = firstMs;
  }

  /** Schedules the next attempt, unless one is scheduled already. */
  start(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.attempt()) {
        this.delay = this.firstMs;
        return;
      }
      this.delay = Math.min(this.maxMs, this.delay * 2);
      this.start();
    }, this.delay);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
