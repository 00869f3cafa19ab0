import fs from 'node:fs';
import type { Logger } from '../system/logger.js';
import { ThrottledLog } from '../system/throttled-log.js';
import { messageBytes, type OutboxMessage } from './outbox-record.js';
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
  /** acks.json is rewritten at most this often (default 1000 ms): acks younger than that are re-sent after a crash. */
  ackFlushMs?: number;
  /** A new segment file starts past this size (default maxBytes / 4, within 64 KiB to 4 MiB). */
  segmentBytes?: number;
  /** Test seam: the file-system calls, to inject EIO or ENOSPC. */
  fs?: OutboxFs;
}

export interface OutboxStats {
  /** `memory`: no state directory, or the disk failed; messages are then lost on restart. */
  mode: 'disk' | 'memory';
  /** Messages pushed and neither acked nor dropped. */
  depth: number;
  /** Their topic + payload bytes. */
  bytes: number;
  /** Oldest messages dropped since open because a limit was reached. */
  dropped: number;
  /** Unacked messages this run recovered from the disk (left by an earlier run). */
  replayed: number;
  /** Detections known lost: unreadable in a damaged segment at the start (estimated where only the bytes tell). */
  lost: number;
}

interface Entry {
  msg: OutboxMessage;
  bytes: number;
}

const DEFAULT_ACK_FLUSH_MS = 1000;

/**
 * The publisher's durable queue: every detection goes through push() before it is sent at QoS 1 and leaves with ack()
 * on PUBACK; after a reconnect or a restart the publisher sends unacked() again, in push order. Delivery is
 * at-least-once: a message acked shortly before a crash (within ackFlushMs) is sent again after the restart.
 *
 * Memory holds the unacked messages too (bounded by maxMessages and maxBytes): the disk is for surviving restarts, not
 * for a longer queue. RAM use is about maxBytes plus ~150 bytes per message.
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
  private replayed = 0;
  private lost = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private loading = false;
  private readonly overflowLog: ThrottledLog;

  private constructor(
    private readonly opts: OutboxOptions,
    private readonly log: Logger,
    private store: DiskStore | null,
    firstId: number,
  ) {
    this.nextId = firstId;
    this.overflowLog = new ThrottledLog(log, 60_000);
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
      return new Outbox(opts, log, null, 1);
    }
    let opened: ReturnType<typeof DiskStore.open>;
    // fdatasync failures arrive later, once the outbox exists.
    const late: { outbox?: Outbox } = {};
    try {
      opened = DiskStore.open(opts.dir, {
        segmentBytes: opts.segmentBytes ?? Math.min(4 << 20, Math.max(64 << 10, Math.floor(opts.maxBytes / 4))),
        fsync: (opts.fsyncMs ?? 0) > 0,
        fs: opts.fs ?? fs,
        onAsyncError: (err) => late.outbox?.toMemory(err),
      });
    } catch (err) {
      log.warn(
        { dir: opts.dir, err: describe(err) },
        'outbox cannot use its state directory: queued detections are kept in memory only and are lost if the daemon restarts',
      );
      return new Outbox(opts, log, null, 1);
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
        outbox.toMemory(err);
      }
    }
    outbox.afterSettle();
    outbox.replayed = outbox.pending.size;
    if (recovered.records.length > 0) {
      log.info({ dir: opts.dir, recovered: recovered.records.length, kept: outbox.replayed }, 'outbox: unacked messages from the last run will be sent again');
    }
    return outbox;
  }

  /** Queues a message; returns its id (increasing, never reused in this directory). Drops the oldest when over a limit. */
  push(msg: OutboxMessage): number {
    if (this.closed) throw new Error('outbox is closed');
    const id = this.nextId++;
    // Room is made before the append: a rewrite triggered by a drop must not miss a record that is on disk but not yet pending.
    if (this.admit(id, msg) && this.store) {
      try {
        this.store.append(id, msg);
      } catch (err) {
        this.toMemory(err);
      }
    }
    return id;
  }

  /** The message was delivered (PUBACK). Unknown ids (dropped, or acked twice) are ignored. */
  ack(id: number): void {
    const e = this.pending.get(id);
    if (!e) return;
    this.pending.delete(id);
    this.bytes -= e.bytes;
    this.compact();
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

  private *walk(order: number[], from: number, last: number): IterableIterator<{ id: number; msg: OutboxMessage }> {
    for (let i = from; i < order.length; i++) {
      const id = order[i]!;
      if (id > last) return;
      const e = this.pending.get(id);
      if (e) yield { id, msg: e.msg };
    }
  }

  stats(): OutboxStats {
    return { mode: this.store ? 'disk' : 'memory', depth: this.pending.size, bytes: this.bytes, dropped: this.dropped, replayed: this.replayed, lost: this.lost };
  }

  /** Writes the ack state, waits for pending fsyncs and closes the files. push() throws afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.ackTimer);
    clearInterval(this.fsyncTimer);
    const store = this.store;
    if (!store) return;
    try {
      this.flushAcks();
      await store.close();
    } catch (err) {
      this.toMemory(err);
    }
  }

  /** Makes room (dropping the oldest) and adds the message to the pending ones; false when it can never fit. */
  private admit(id: number, msg: OutboxMessage): boolean {
    const size = messageBytes(msg);
    if (size > this.opts.maxBytes) {
      this.dropped++;
      this.settle(id);
      this.overflowLog.warn('too-big', { bytes: size, maxBytes: this.opts.maxBytes, topic: msg.topic, dropped: this.dropped }, 'outbox: message larger than the whole outbox; dropped');
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
      this.store?.settle(id);
    } catch (err) {
      this.toMemory(err);
    }
    if (!this.loading) this.afterSettle();
  }

  /** Compacts the segments when settled records pinned by a few live ones waste space; schedules the ack file. */
  private afterSettle(): void {
    const store = this.store;
    if (!store) return;
    try {
      // Only live records are copied, so the rewrite is paid for by the settled bytes it frees.
      if (store.needsRewrite()) store.rewrite(this.unacked());
    } catch (err) {
      this.toMemory(err);
      return;
    }
    if (!this.ackTimer && !this.closed) {
      this.ackTimer = setTimeout(() => {
        this.ackTimer = undefined;
        this.flushAcks();
      }, this.opts.ackFlushMs ?? DEFAULT_ACK_FLUSH_MS);
      this.ackTimer.unref();
    }
  }

  private flushAcks(): void {
    try {
      this.store?.writeAcks(this.nextId - 1, this.pending.keys());
    } catch (err) {
      this.toMemory(err);
    }
  }

  /** The disk failed (ENOSPC, EIO, a short write): keep going in memory, say so once. */
  private toMemory(err: unknown): void {
    const store = this.store;
    if (!store) return;
    this.store = null;
    clearInterval(this.fsyncTimer);
    store.abandon();
    this.log.warn(
      { dir: store.dir, err: describe(err), depth: this.pending.size },
      'outbox cannot write to its state directory any more: continuing in memory; detections queued from now on are lost if the daemon restarts, and some already delivered may be sent again',
    );
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}
