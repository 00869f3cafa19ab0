import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import type { Logger } from '../system/logger.js';
import { ThrottledLog } from '../system/throttled-log.js';
import { messageBytes, type OutboxMessage } from './outbox-record.js';
import { RetryTimer } from './outbox-retry.js';
import { DiskStore, type OutboxFs } from './outbox-store.js';

export type { OutboxMessage } from './outbox-record.js';
export type { OutboxFs } from './outbox-store.js';

export interface OutboxOptions {
  /** State directory for the segment files; null keeps the outbox in memory (lost on restart). */
  dir: string | null;
  /** Unacked messages kept at most; past it the oldest are dropped and counted. */
  maxMessages: number;
  /** Topic + payload bytes kept at most; past it the oldest are dropped and counted. */
  maxBytes: number;
  /**
   * fdatasync the segment being written at most every this many ms (0 or absent: never).
   * Without it a message is durable against SIGKILL and crashes of the daemon as soon as push() returns (it is in the
   * kernel's page cache), but a power cut loses what the kernel had not yet written back (up to ~30 s with Linux's
   * default dirty_expire_centisecs). With it, at most the last fsyncMs are at risk, for more SD card writes.
   */
  fsyncMs?: number;
  /**
   * A message being sent to a connected broker is written to the disk only if the broker has not acknowledged it
   * within this many ms (0 or absent: every message at once). A healthy broker acknowledges in milliseconds, so the
   * disk then sees almost nothing: no write(2) a frame, and no SD card wear from detections that were delivered at
   * once. Messages pushed while disconnected, and all still waiting when the connection drops or the outbox closes,
   * are written at once. What it gives up: a SIGKILL in the same second as a connection that died silently.
   */
  persistAfterMs?: number;
  /** acks.json is rewritten at most this often (default 1000 ms): acks younger than that are re-sent after a crash. */
  ackFlushMs?: number;
  /** A new segment file starts past this size (default maxBytes / 4, within 64 KiB to 4 MiB). */
  segmentBytes?: number;
  /** After a failed write (ENOSPC, EIO), the disk is tried again after this many ms (default 2000), then twice as long each time, up to a minute. */
  diskRetryMs?: number;
  /** Test seam: the file-system calls, to inject EIO or ENOSPC. */
  fs?: OutboxFs;
}

/** The outbox options of the daemon's `mqtt.outbox` settings, for a state directory (or null: memory only). */
export function outboxOptions(dir: string | null, box: { maxMessages: number; maxBytes: number; fsyncMs: number; persistAfterMs: number }): OutboxOptions {
  return { dir, maxMessages: box.maxMessages, maxBytes: box.maxBytes, persistAfterMs: box.persistAfterMs, ...(box.fsyncMs > 0 ? { fsyncMs: box.fsyncMs } : {}) };
}

export interface OutboxStats {
  /** `memory`: no state directory, or the disk failed (tried again with backoff); see memoryOnly. */
  mode: 'disk' | 'memory';
  /** Messages pushed and neither acked nor dropped. */
  depth: number;
  /** Their topic + payload bytes. */
  bytes: number;
  /** Messages not kept since open: the oldest dropped because a limit was reached, and those refused (below). */
  dropped: number;
  /** Messages refused because each alone is larger than maxBytes (logged with their topic). */
  refused: number;
  /** Unacked messages this run recovered from the disk (left by an earlier run). */
  replayed: number;
  /** Pending messages held in memory only because the disk failed (or there is none): lost if the daemon stopped now. */
  memoryOnly: number;
  /** Pending messages sent to the broker less than persistAfterMs ago, not yet written (a stop writes them). */
  deferred: number;
  /**
   * Detections known lost: unreadable in a damaged segment at the start (estimated where only the bytes tell), and
   * those still held in memory only when the outbox closed.
   */
  lost: number;
}

interface Entry {
  msg: OutboxMessage;
  bytes: number;
}

const DEFAULT_ACK_FLUSH_MS = 1000;
const DEFAULT_DISK_RETRY_MS = 2000;
const MAX_DISK_RETRY_MS = 60_000;

/**
 * The publisher's durable queue: every detection goes through push() before it is sent at QoS 1 and leaves with ack()
 * on PUBACK; after a reconnect or a restart the publisher sends unacked() again, in push order. Delivery is
 * at-least-once: a message acked shortly before a crash (within ackFlushMs) is sent again after the restart.
 *
 * Memory holds the unacked messages too (bounded by maxMessages and maxBytes): the disk is for surviving restarts, not
 * for a longer queue. RAM use is about maxBytes plus ~150 bytes per message.
 *
 * When a write fails (a full disk, EIO), new messages are held in memory only, and the disk is tried again with backoff:
 * once it takes writes, they go to it. Acks still reach the disk meanwhile (segments whose messages are all acked are
 * deleted, acks.json is overwritten in place if need be), so that a restart does not send them again.
 */
export class Outbox {
  private readonly pending = new Map<number, Entry>();
  /**
   * Pending ids in push order, with acked ones left in place until compact(): finding the oldest is O(1), where a Map's
   * first key after many deletes costs a scan over the holes (26k pushes/s at 100k messages, measured).
   */
  private order: number[] = [];
  private head = 0;
  private nextId: number;
  private bytes = 0;
  private dropped = 0;
  private refused = 0;
  private replayed = 0;
  private lost = 0;
  /** Set while the disk fails: new messages are then held in memory only. */
  private diskError: string | null = null;
  private readonly retry: RetryTimer;
  private readonly diskLog: ThrottledLog;
  private ackTimer: NodeJS.Timeout | undefined;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private loading = false;
  private readonly overflowLog: ThrottledLog;
  /** Messages in flight to a connected broker and not written yet: id -> when pushed (insertion order is id order). */
  private readonly deferred = new Map<number, number>();
  private persistTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly opts: OutboxOptions,
    private readonly log: Logger,
    /** Null: memory for the whole run (no state directory, or it could not be opened: `memoryReason`). */
    private readonly store: DiskStore | null,
    firstId: number,
    private readonly memoryReason = '',
  ) {
    this.nextId = firstId;
    this.overflowLog = new ThrottledLog(log, 60_000);
    this.diskLog = new ThrottledLog(log, 60_000);
    this.retry = new RetryTimer(opts.diskRetryMs ?? DEFAULT_DISK_RETRY_MS, MAX_DISK_RETRY_MS, () => this.closed || this.moveToDisk());
    if (store && opts.fsyncMs && opts.fsyncMs > 0) {
      this.fsyncTimer = setInterval(() => this.store?.sync(), opts.fsyncMs);
      this.fsyncTimer.unref();
    }
  }

  static async open(opts: OutboxOptions, log: Logger): Promise<Outbox> {
    if (!Number.isSafeInteger(opts.maxMessages) || opts.maxMessages < 1) throw new RangeError('outbox maxMessages must be a positive integer');
    if (!(opts.maxBytes >= 1)) throw new RangeError('outbox maxBytes must be positive');
    if (opts.dir === null) {
      log.warn('outbox has no state directory: queued detections are kept in memory only and are lost if the daemon restarts');
      return new Outbox(opts, log, null, 1, 'no state directory');
    }
    let opened: ReturnType<typeof DiskStore.open>;
    // fdatasync failures arrive later, once the outbox exists.
    const late: { outbox?: Outbox } = {};
    try {
      opened = DiskStore.open(opts.dir, {
        segmentBytes: opts.segmentBytes ?? Math.min(4 << 20, Math.max(64 << 10, Math.floor(opts.maxBytes / 4))),
        fsync: (opts.fsyncMs ?? 0) > 0,
        fs: opts.fs ?? fs,
        onAsyncError: (err) => late.outbox?.diskFailed(err),
      });
    } catch (err) {
      log.warn(
        { dir: opts.dir, err: describe(err) },
        'outbox cannot use its state directory: queued detections are kept in memory only and are lost if the daemon restarts',
      );
      return new Outbox(opts, log, null, 1, `state directory unusable (${describe(err)})`);
    }
    const { store, recovered } = opened;
    for (const note of recovered.notes) log.warn({ dir: opts.dir, ...note.fields }, `outbox: ${note.msg}`);
    const outbox = new Outbox(opts, log, store, recovered.highestId + 1);
    late.outbox = outbox;
    // No rewrite while loading: the store holds records that are not pending yet, and a rewrite copies only pending ones.
    outbox.loading = true;
    for (const { id, msg } of recovered.records) outbox.admit(id, msg);
    outbox.loading = false;
    outbox.lost = recovered.lost;
    if (recovered.damaged) {
      // Without the damaged files the damage is reported once, not at every start until their records are acked.
      try {
        store.rewrite(outbox.unacked());
      } catch (err) {
        outbox.diskFailed(err);
      }
    }
    outbox.afterSettle();
    // An ack file from the start: should the disk fill up later, there is one to overwrite in place (see writeAcks).
    outbox.flushAcks();
    outbox.replayed = outbox.pending.size;
    if (recovered.records.length > 0) {
      log.info({ dir: opts.dir, recovered: recovered.records.length, kept: outbox.replayed }, 'outbox: unacked messages from the last run will be sent again');
    }
    return outbox;
  }

  /**
   * Queues a message; returns its id (increasing; never reused in this directory for a message written to it: after a
   * SIGKILL, ids of messages delivered before they were written may come again). Drops the oldest when over a limit.
   * `inFlight`: the publisher sends it to a connected broker now, so its write may wait persistAfterMs for the ack.
   */
  push(msg: OutboxMessage, inFlight = false): number {
    if (this.closed) throw new Error('outbox is closed');
    const id = this.nextId++;
    // Room is made before the append: a rewrite triggered by a drop must not miss a record that is on disk but not yet pending.
    if (this.admit(id, msg) && this.store && this.diskError === null) {
      const after = this.opts.persistAfterMs ?? 0;
      if (inFlight && after > 0) {
        this.deferred.set(id, performance.now());
        if (!this.persistTimer) this.schedulePersist(after);
        return id;
      }
      // Ids on disk stay in push order: the deferred ones (older) go first.
      if (this.deferred.size > 0) this.persistDeferred();
      try {
        this.store.append(id, msg);
      } catch (err) {
        this.diskFailed(err);
      }
    }
    return id;
  }

  /**
   * Writes every deferred message now (the connection dropped: nothing says when they will be acknowledged), oldest
   * first, so that a restart finds them.
   */
  persistDeferred(olderThan = Infinity): void {
    const store = this.store;
    for (const [id, at] of this.deferred) {
      if (at > olderThan) break;
      this.deferred.delete(id);
      const e = this.pending.get(id);
      if (!e || !store || this.diskError !== null || store.has(id)) continue; // acked or dropped meanwhile; memory only; written
      try {
        store.append(id, e.msg);
      } catch (err) {
        this.diskFailed(err);
      }
    }
  }

  /** Writes the deferred messages the broker has not acknowledged within persistAfterMs; looks again at the next one's due time. */
  private schedulePersist(ms: number): void {
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      const after = this.opts.persistAfterMs ?? 0;
      this.persistDeferred(performance.now() - after);
      const oldest = this.deferred.values().next();
      if (!oldest.done && !this.closed) this.schedulePersist(Math.max(1, oldest.value + after - performance.now()));
    }, ms);
    this.persistTimer.unref();
  }

  /** The message was delivered (PUBACK). Unknown ids (dropped, or acked twice) are ignored. */
  ack(id: number): void {
    const e = this.pending.get(id);
    if (!e) return;
    this.pending.delete(id);
    this.bytes -= e.bytes;
    this.compact();
    // Delivered before it had to be written: nothing on disk to settle, and no ack file to rewrite for it (the file
    // would otherwise be rewritten every ackFlushMs while detections flow, for ids that never touched the disk).
    if (this.deferred.delete(id)) return;
    this.settle(id);
  }

  /**
   * The unacked messages in push order, as of this call (messages pushed while iterating are not included; acks and
   * drops while iterating are honoured).
   */
  unacked(): IterableIterator<{ id: number; msg: OutboxMessage }> {
    // compact() replaces the array rather than editing it, so this one stays valid while the caller acks.
    return this.walk(this.order, this.head, this.nextId - 1);
  }

  /** The unacked messages already on disk (deferred ones are not, until they are due). */
  private *written(): IterableIterator<{ id: number; msg: OutboxMessage }> {
    for (const r of this.unacked()) if (!this.deferred.has(r.id)) yield r;
  }

  private *walk(order: number[], from: number, last: number): IterableIterator<{ id: number; msg: OutboxMessage }> {
    for (let i = from; i < order.length; i++) {
      const id = order[i]!;
      if (id > last) return;
      const e = this.pending.get(id);
      if (e) yield { id, msg: e.msg };
    }
  }

  stats(): OutboxStats {
    return {
      mode: this.store && this.diskError === null ? 'disk' : 'memory',
      depth: this.pending.size,
      bytes: this.bytes,
      dropped: this.dropped,
      refused: this.refused,
      replayed: this.replayed,
      memoryOnly: this.pending.size - (this.store?.liveCount ?? 0) - this.deferred.size,
      deferred: this.deferred.size,
      lost: this.lost,
    };
  }

  /**
   * Writes what only memory holds if the disk takes it now, writes the ack state, waits for pending fsyncs and closes
   * the files; counts and logs what is lost. push() throws afterwards.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.ackTimer);
    clearTimeout(this.persistTimer);
    clearInterval(this.fsyncTimer);
    this.retry.stop();
    const store = this.store;
    if (store) {
      this.persistDeferred();
      if (this.diskError !== null) this.moveToDisk();
      this.flushAcks();
      try {
        await store.close();
      } catch (err) {
        this.diskFailed(err);
      }
    }
    this.deferred.clear(); // no store, or the disk failed: counted below as memory only
    const lost = this.pending.size - (this.store?.liveCount ?? 0);
    if (lost > 0) {
      this.lost += lost;
      // Counted once: what stays pending is what the disk keeps for the next start.
      for (const [id, e] of this.pending) {
        if (this.store?.has(id)) continue;
        this.pending.delete(id);
        this.bytes -= e.bytes;
      }
      this.log.warn(
        { dir: this.opts.dir, lost, reason: this.diskError ?? this.memoryReason },
        `outbox: ${lost} detections not acknowledged by the broker are lost: they were held in memory only`,
      );
    }
  }

  /** Makes room (dropping the oldest) and adds the message to the pending ones; false when it can never fit. */
  private admit(id: number, msg: OutboxMessage): boolean {
    const size = messageBytes(msg);
    if (size > this.opts.maxBytes) {
      // Keeping it would mean emptying the queue of every older detection for it; the publisher still sends it now
      // if the broker is connected.
      this.dropped++;
      this.refused++;
      this.settle(id);
      this.overflowLog.warn(
        `too-big ${msg.topic}`,
        { topic: msg.topic, bytes: size, maxBytes: this.opts.maxBytes, refused: this.refused },
        'outbox: a message larger than mqtt.outbox.maxBytes is not queued: it is sent only if the broker is connected now, never again after an outage or a restart',
      );
      return false;
    }
    while (this.pending.size >= this.opts.maxMessages || this.bytes + size > this.opts.maxBytes) this.dropOldest();
    this.pending.set(id, { msg, bytes: size });
    this.order.push(id);
    this.bytes += size;
    return true;
  }

  private dropOldest(): void {
    while (this.head < this.order.length) {
      const id = this.order[this.head++]!;
      const e = this.pending.get(id);
      if (!e) continue; // acked already
      this.pending.delete(id);
      this.deferred.delete(id);
      this.bytes -= e.bytes;
      this.dropped++;
      this.compact();
      this.settle(id);
      this.overflowLog.warn(
        'full',
        { maxMessages: this.opts.maxMessages, maxBytes: this.opts.maxBytes, dropped: this.dropped },
        'outbox full (broker away too long): dropping the oldest detections, counted in dropped',
      );
      return;
    }
  }

  /** Keeps `order` within twice the pending count (plus slack), whatever order the acks come in: amortised O(1). */
  private compact(): void {
    if (this.order.length <= 2 * this.pending.size + 1024) return;
    this.order = this.order.slice(this.head).filter((id) => this.pending.has(id));
    this.head = 0;
  }

  private settle(id: number): void {
    try {
      // Also while the disk fails: a segment whose messages are all acked is deleted, which frees space.
      this.store?.settle(id);
    } catch (err) {
      this.diskFailed(err);
    }
    if (!this.loading) this.afterSettle();
  }

  /** Compacts the segments when settled records pinned by a few live ones waste space; schedules the ack file. */
  private afterSettle(): void {
    const store = this.store;
    if (!store) return;
    try {
      // Only live records are copied, so the rewrite is paid for by the settled bytes it frees.
      if (this.diskError === null && store.needsRewrite()) store.rewrite(this.written());
    } catch (err) {
      this.diskFailed(err);
    }
    if (!this.ackTimer && !this.closed) {
      this.ackTimer = setTimeout(() => {
        this.ackTimer = undefined;
        this.flushAcks();
      }, this.opts.ackFlushMs ?? DEFAULT_ACK_FLUSH_MS);
      this.ackTimer.unref();
    }
  }

  /** Also while the disk fails (then in place if there is no room for a new file): acked messages must not come back. */
  private flushAcks(): void {
    try {
      this.store?.writeAcks(this.nextId - 1, this.pending.keys(), { inPlace: true });
    } catch (err) {
      if (this.diskError === null) this.diskFailed(err);
    }
  }

  /** The disk failed (ENOSPC, EIO, a short write): hold new messages in memory, say so, try the disk again later. */
  private diskFailed(err: unknown): void {
    if (!this.store) return;
    const first = this.diskError === null;
    this.diskError = describe(err);
    if (first) {
      this.diskLog.warn(
        'failed',
        { dir: this.store.dir, err: this.diskError, depth: this.pending.size },
        'outbox cannot write to its state directory: new detections are held in memory only (lost if the daemon stops before the disk takes them again); trying the disk again with backoff',
      );
    }
    if (!this.closed) this.retry.start();
  }

  /**
   * Writes the messages that only memory holds, in push order (their ids are above every id on disk, so segments stay
   * in ascending order), then a fresh ack file, which also proves the disk takes new files again. True when it did.
   */
  private moveToDisk(): boolean {
    const store = this.store;
    if (!store) return true;
    const held = this.stats().memoryOnly;
    try {
      // Deferred ones too (they are in push order with the rest): written now, no longer deferred.
      for (const { id, msg } of this.unacked()) if (!store.has(id)) store.append(id, msg);
      this.deferred.clear();
      store.writeAcks(this.nextId - 1, this.pending.keys(), { force: true });
    } catch (err) {
      this.diskError = describe(err);
      return false;
    }
    this.diskError = null;
    this.log.info({ dir: store.dir, moved: held }, 'outbox writes to its state directory again: the detections held in memory are on disk now');
    return true;
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}
