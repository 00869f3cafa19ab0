import type { Logger } from '../system/logger.js';
import { ThrottledLog } from '../system/throttled-log.js';
import { describeRefusal, refusalCode } from './connack-refusal.js';

/**
 * `connecting`: no answer yet since the start. `refused`: the broker answered the CONNECT with an error (credentials,
 * not authorised, server unavailable, banned ...). `unreachable`: no MQTT session came up (TCP or TLS error, no
 * CONNACK in time, socket closed before one). `lost`: an open connection ended. `stopped`: we disconnected.
 */
export type LinkState = 'connecting' | 'connected' | 'refused' | 'unreachable' | 'lost' | 'stopped';

export interface LinkStatus {
  state: LinkState;
  /** Why it is down, in words (null while connected or before the first answer). */
  reason: string | null;
  /** ISO time since when no connection has been up (null while connected). */
  downSince: string | null;
}

/** A long outage is recalled in the log at most this often. */
const REMINDER_MS = 60_000;

/**
 * The state of the daemon's connection to the broker, and its log: one line per change of state or of cause
 * (connected, lost, refused with the reason in words, unreachable with the error), never one per retry; while it
 * stays down, a reminder at most once a minute. Fed by the mqtt.js client's events; every attempt ends in a `close`.
 */
export class BrokerLink {
  private state: LinkState = 'connecting';
  private reason: string | null = null;
  private downSince: number;
  /** Failed attempts since the link went down. */
  private attempts = 0;
  /** The error of the attempt (or connection) in progress; its `close` tells how it ended. */
  private attemptError: Error | undefined;
  /** What the last failed attempt of this outage was: a different one is a change worth a line. */
  private lastCause: string | undefined;
  private lastLineAt = 0;
  /** A flapping connection (see SessionTakeover) must not write a "lost" line every second. */
  private readonly lost: ThrottledLog;

  constructor(
    private readonly log: Logger,
    /** Fields every line carries (url with the password masked, client id) and what is waiting (queued). */
    private readonly fields: () => Record<string, unknown>,
    private readonly now: () => number = Date.now,
  ) {
    this.downSince = now();
    this.lost = new ThrottledLog(log, REMINDER_MS, now);
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  status(): LinkStatus {
    const down = this.state !== 'connected';
    return { state: this.state, reason: this.reason, downSince: down ? new Date(this.downSince).toISOString() : null };
  }

  /** mqtt.js `error`: remembered until the `close` that follows it. */
  error(err: Error): void {
    this.attemptError = err;
  }

  connect(): void {
    const t = this.now();
    const wasDown = this.state !== 'connecting';
    this.log.info(
      { ...this.fields(), ...(wasDown ? { downForSec: Math.round((t - this.downSince) / 1000), attempts: this.attempts } : {}) },
      'connected to MQTT broker',
    );
    this.state = 'connected';
    this.reason = null;
    this.attempts = 0;
    this.attemptError = undefined;
    this.lastCause = undefined;
  }

  /** We disconnect on purpose: nothing to log. */
  stopped(): void {
    if (this.state === 'connected') this.downSince = this.now();
    this.state = 'stopped';
    this.reason = 'stopped';
  }

  /** mqtt.js `close`: the connection, or the attempt at one, is over; mqtt.js retries after the backoff wait. */
  close(): void {
    const t = this.now();
    const err = this.attemptError;
    this.attemptError = undefined;
    if (this.state === 'connected') {
      this.state = 'lost';
      this.reason = err?.message ?? 'the broker closed the connection';
      this.downSince = t;
      this.lost.warn('lost', { ...this.fields(), reason: this.reason }, 'MQTT connection lost; retrying with backoff');
      return;
    }
    this.attempts++;
    const code = err ? refusalCode(err) : undefined;
    if (code !== undefined) {
      this.state = 'refused';
      this.reason = describeRefusal(code);
    } else {
      this.state = 'unreachable';
      this.reason = err?.message ?? 'the broker closed the connection before accepting it';
    }
    const cause = `${this.state}: ${this.reason}`;
    if (cause !== this.lastCause) {
      this.lastCause = cause;
      this.lastLineAt = t;
      const fields = { ...this.fields(), reason: this.reason, ...(code !== undefined ? { code } : {}) };
      const msg = this.state === 'refused' ? `MQTT broker refused the connection (${this.reason}); retrying with backoff` : `MQTT broker unreachable (${this.reason}); retrying with backoff`;
      this.log.warn(fields, msg);
    } else if (t - this.lastLineAt >= REMINDER_MS) {
      this.lastLineAt = t;
      const downForSec = Math.round((t - this.downSince) / 1000);
      this.log.warn({ ...this.fields(), reason: this.reason, downForSec, attempts: this.attempts }, `MQTT still ${this.state} after ${downForSec} s (${this.reason}); retrying`);
    }
  }
}
