/** First wait after a failed or lost connection. */
export const BASE_RECONNECT_MS = 1000;
/** Longest wait between two attempts. */
export const MAX_RECONNECT_MS = 30_000;

/**
 * The wait before each reconnect attempt: 1 s doubling to 30 s, each wait a random 75-100 % of its step so that many
 * daemons cut off by one broker restart do not all come back in the same second. Jitter only shortens a wait, so
 * 30 s stays the longest a broker that accepts again waits for us.
 */
export class ReconnectBackoff {
  private attempt = 0;

  constructor(private readonly random: () => number = Math.random) {}

  /** The wait before the next attempt; each call moves one step further. */
  next(): number {
    const step = Math.min(MAX_RECONNECT_MS, BASE_RECONNECT_MS * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(step * (0.75 + 0.25 * this.random()));
  }

  /** After a successful connect: the next outage starts again at 1 s. */
  reset(): void {
    this.attempt = 0;
  }
}
