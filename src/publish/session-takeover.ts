/**
 * Notices a broker that keeps closing our connection soon after it opens: what happens when two clients use the same
 * client id (two daemons with one device.id), as each connect kicks the other off. MQTT 3.1.1 gives no reason, so it
 * is inferred from the pattern; MQTT 5 says so (reason code 0x8E, session taken over) and is reported at once.
 */
export class SessionTakeover {
  private readonly shortLived: number[] = [];
  private connectedAt: number | undefined;

  constructor(
    /** A connection closed by the broker within this long counts as short-lived. */
    private readonly shortMs = 30_000,
    /** This many short-lived connections ... */
    private readonly count = 3,
    /** ... within this window make a takeover likely. */
    private readonly windowMs = 120_000,
  ) {}

  connected(now: number): void {
    this.connectedAt = now;
  }

  /** A connection ended that we did not end ourselves: true when the pattern says another client has our id. */
  closed(now: number): boolean {
    const since = this.connectedAt;
    this.connectedAt = undefined;
    if (since === undefined || now - since > this.shortMs) return false;
    this.shortLived.push(now);
    while (this.shortLived.length > 0 && now - this.shortLived[0]! > this.windowMs) this.shortLived.shift();
    return this.shortLived.length >= this.count;
  }
}

/** MQTT 5 DISCONNECT reason code: another connection with the same client id took the session. */
export const SESSION_TAKEN_OVER = 0x8e;
