import type { Logger } from './logger.js';

/**
 * Logs the first occurrence of a repeated problem at once, then at most one line per `everyMs` with how many were
 * suppressed: a bad camera at 30 fps must not flood the journal, but must stay visible.
 */
export class ThrottledLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly everyMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const t = this.now();
    const entry = this.last.get(key);
    if (entry && t - entry.at < this.everyMs) {
      entry.suppressed++;
      return;
    }
    this.log.warn(entry && entry.suppressed > 0 ? { ...fields, suppressed: entry.suppressed } : fields, msg);
    this.last.set(key, { at: t, suppressed: 0 });
  }
}
