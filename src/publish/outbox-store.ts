import fs from 'node:fs';
import path from 'node:path';
import { encodeAcks, isSettled, parseAcks, type AckState } from './outbox-acks.js';
import { damageNote } from './outbox-damage.js';
import { acquireLock, type LockFs } from './outbox-lock.js';
import { decodeRecords, encodeRecord, type OutboxMessage, type StoredRecord } from './outbox-record.js';

/** The file-system calls the store makes: a seam for tests that inject EIO or a short write. */
export type OutboxFs = LockFs &
  Pick<
    typeof fs,
    'mkdirSync' | 'openSync' | 'writeSync' | 'closeSync' | 'readFileSync' | 'readdirSync' | 'unlinkSync' | 'renameSync' | 'truncateSync' | 'fsyncSync' | 'fdatasync'
  >;

interface Segment {
  seq: number;
  file: string;
  fd: number | null;
  bytes: number;
  /** Unsettled records whose only kept copy is in this segment. */
  live: number;
  /** fdatasync calls in flight: the fd is closed only once they are done (a closed fd could be reused meanwhile). */
  syncing: number;
  retired: boolean;
}

export interface StoreOptions {
  segmentBytes: number;
  fsync: boolean;
  fs: OutboxFs;
  /** Failures of background work (fdatasync): the outbox falls back to memory. */
  onAsyncError: (err: Error) => void;
}

export interface Recovered {
  /** Unsettled records left by earlier runs, ascending id. */
  records: StoredRecord[];
  /** The highest id ever written here: new ids continue above it, so an old ack file can never settle a new id. */
  highestId: number;
  /** Damaged segments, an unreadable ack file: for the outbox to log as warnings. */
  notes: { fields: Record<string, unknown>; msg: string }[];
  /** Detections that were on disk and cannot be read back (estimated from the bytes where the ids do not tell). */
  lost: number;
  /** A segment holds damage between whole records: rewrite the live records, so that it is reported only once. */
  damaged: boolean;
}

const SEGMENT = /^seg-(\d{12})\.log$/;
const ACKS = 'acks.json';
/** Directories open in this process: a second outbox on the same one would interleave records. */
const openDirs = new Set<string>();

/**
 * The outbox on disk: append-only segment files of length+CRC records, written with one write(2) per message (in the
 * kernel's page cache when push() returns, so it survives SIGKILL), plus `acks.json` (rewritten by rename, at most every
 * ackFlushMs) saying which ids are settled. A segment is deleted once all its records are settled; when settled records
 * pinned by a few unsettled ones take more than half the disk space, the live records are rewritten into one new segment.
 */
export class DiskStore {
  private segments: Segment[] = [];
  private active: Segment | null = null;
  private readonly live = new Map<number, { seg: Segment; bytes: number }>();
  private nextSeq = 1;
  private totalBytes = 0;
  private liveBytes = 0;
  private dataDirty = false;
  private lastAcks = '';
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly opts: StoreOptions,
    private readonly unlock: () => void,
  ) {}

  /** Throws (with the fs error's code) when the directory cannot be created, locked or read. */
  static open(dir: string, opts: StoreOptions): { store: DiskStore; recovered: Recovered } {
    const abs = path.resolve(dir);
    if (openDirs.has(abs)) throw Object.assign(new Error('already open in this process'), { code: 'ELOCKED' });
    opts.fs.mkdirSync(abs, { recursive: true, mode: 0o750 });
    const unlock = acquireLock(opts.fs, abs);
    const store = new DiskStore(abs, opts, unlock);
    openDirs.add(abs);
    try {
      return { store, recovered: store.load() };
    } catch (err) {
      store.abandon();
      throw err;
    }
  }

  get diskBytes(): number {
    return this.totalBytes;
  }

  /** Unsettled records stored here. */
  get liveCount(): number {
    return this.live.size;
  }

  has(id: number): boolean {
    return this.live.has(id);
  }

  append(id: number, msg: OutboxMessage): void {
    const rec = encodeRecord(id, msg);
    if (!this.active || this.active.bytes >= this.opts.segmentBytes) this.rotate();
    const seg = this.active!;
    let n = 0;
    try {
      n = this.opts.fs.writeSync(seg.fd!, rec);
      if (n !== rec.length) throw Object.assign(new Error(`short write: ${n} of ${rec.length} bytes`), { code: 'EIO' });
    } catch (err) {
      this.dropTornWrite(seg, n);
      throw err;
    }
    seg.bytes += n;
    this.totalBytes += n;
    this.dataDirty = true;
    this.live.set(id, { seg, bytes: rec.length });
    seg.live++;
    this.liveBytes += rec.length;
  }

  settle(id: number): void {
    const e = this.live.get(id);
    if (!e) return;
    this.live.delete(id);
    e.seg.live--;
    this.liveBytes -= e.bytes;
    if (e.seg.live === 0 && e.seg !== this.active) this.remove(e.seg);
  }

  /** Settled records kept alive by a few unsettled ones take more than they should. */
  needsRewrite(): boolean {
    return this.totalBytes > 2 * this.liveBytes + 2 * this.opts.segmentBytes;
  }

  /**
   * Copies the live records (ascending) into a fresh segment, then deletes the old ones: a crash in between leaves
   * duplicates, which load() drops. A failure (a full disk) deletes the new file and leaves everything as it was.
   */
  rewrite(records: Iterable<StoredRecord>): void {
    const seg = this.createSegment();
    const live = new Map<number, { seg: Segment; bytes: number }>();
    try {
      let batch: Buffer[] = [];
      let batchBytes = 0;
      const flush = (): void => {
        if (batchBytes === 0) return;
        const buf = Buffer.concat(batch, batchBytes);
        const n = this.opts.fs.writeSync(seg.fd!, buf);
        seg.bytes += n;
        if (n !== buf.length) throw Object.assign(new Error(`short write: ${n} of ${buf.length} bytes`), { code: 'EIO' });
        batch = [];
        batchBytes = 0;
      };
      for (const { id, msg } of records) {
        const rec = encodeRecord(id, msg);
        batch.push(rec);
        batchBytes += rec.length;
        live.set(id, { seg, bytes: rec.length });
        if (batchBytes >= 1 << 20) flush();
      }
      flush();
      if (this.opts.fsync) this.opts.fs.fsyncSync(seg.fd!);
    } catch (err) {
      this.retire(seg);
      try {
        this.opts.fs.unlinkSync(seg.file);
      } catch {
        // Its records are all in the old segments too: a leftover only means duplicates that load() drops.
      }
      throw err;
    }
    const old = this.segments;
    this.segments = [seg];
    this.active = seg;
    this.live.clear();
    this.liveBytes = 0;
    for (const [id, e] of live) {
      this.live.set(id, e);
      this.liveBytes += e.bytes;
    }
    seg.live = live.size;
    this.dataDirty = !this.opts.fsync;
    for (const s of old) this.remove(s);
    this.totalBytes = seg.bytes;
  }

  /**
   * Rewrites acks.json when it changed (or when `force`d): everything up to `high` is settled except `unsettledIds`
   * (ascending). `inPlace`: when the disk has no room for the new file, overwrite the old one where it stands.
   */
  writeAcks(high: number, unsettledIds: Iterable<number>, opts: { force?: boolean; inPlace?: boolean } = {}): void {
    const text = encodeAcks(high, unsettledIds);
    if (text === this.lastAcks && !opts.force) return;
    const file = path.join(this.dir, ACKS);
    const tmp = `${file}.tmp`;
    try {
      const fd = this.opts.fs.openSync(tmp, 'w', 0o640);
      try {
        writeWhole(this.opts.fs, fd, text);
      } finally {
        this.opts.fs.closeSync(fd);
      }
      // rename(2) replaces the file atomically: a crash leaves the old or the new state, never half of one. Without an
      // fsync a power cut may bring back an older state, which only means re-sending (at-least-once), never losing.
      this.opts.fs.renameSync(tmp, file);
    } catch (err) {
      unlinkQuietly(this.opts.fs, tmp);
      if (!opts.inPlace || !isNoSpace(err)) throw err;
      try {
        this.overwriteAcks(file, text);
      } catch {
        throw err; // the full disk is the news, not that there was no old file to overwrite
      }
    }
    this.lastAcks = text;
  }

  /**
   * A full disk has no block for a new file, but acks.json has one already: overwrite it where it stands, padded with
   * spaces (JSON allows them) so that no byte of the old state is left. Without this, the messages acked while the
   * disk is full would all come back as duplicates at the next start. Not atomic: a torn overwrite leaves a file that
   * does not parse, and then the next start replays everything (duplicates, never losses).
   */
  private overwriteAcks(file: string, text: string): void {
    const old = this.opts.fs.readFileSync(file);
    const fd = this.opts.fs.openSync(file, 'r+');
    try {
      writeWhole(this.opts.fs, fd, text.padEnd(old.length, ' '));
    } finally {
      this.opts.fs.closeSync(fd);
    }
  }

  /** A write that failed part-way: cut what it left, and start the next append in a new segment. */
  private dropTornWrite(seg: Segment, written: number): void {
    if (written > 0) {
      try {
        this.opts.fs.truncateSync(seg.file, seg.bytes);
      } catch {
        // The next start reads up to the torn record and skips it (at a segment's end, that costs nothing).
      }
    }
    this.active = null;
    this.retire(seg);
    try {
      if (seg.live === 0) this.remove(seg);
    } catch {
      // An empty segment left behind is deleted by the next load.
    }
  }

  /** fdatasync of the segment being written, off the event loop (an SD card can take tens of ms). */
  sync(): void {
    if (!this.dataDirty || !this.active || this.closed) return;
    this.dataDirty = false;
    this.syncSegment(this.active);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.inflight);
    if (this.opts.fsync && this.active?.fd != null && this.dataDirty) this.opts.fs.fsyncSync(this.active.fd);
    this.abandon();
  }

  /** Lets go of every file and the lock without further writes: on close, and when opening fails half-way. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    for (const seg of this.segments) this.retire(seg);
    this.unlock();
    openDirs.delete(this.dir);
  }

  private load(): Recovered {
    const notes: Recovered['notes'] = [];
    const { fs: f } = this.opts;
    const names = f.readdirSync(this.dir);
    let acks: AckState | null = null;
    if (names.includes(ACKS)) {
      try {
        acks = parseAcks(f.readFileSync(path.join(this.dir, ACKS), 'utf8'));
      } catch (err) {
        notes.push({ fields: {}, msg: `unreadable ${ACKS} (${(err as Error).message}): every stored message is replayed` });
      }
    }
    if (names.includes(`${ACKS}.tmp`)) f.unlinkSync(path.join(this.dir, `${ACKS}.tmp`));
    let highestId = acks?.high ?? 0;
    const found = new Map<number, StoredRecord & { seg: Segment; bytes: number }>();
    const decoded = names
      .map((n) => SEGMENT.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b)
      .map((seq) => {
        const seg = this.segmentAt(seq);
        const buf = f.readFileSync(seg.file);
        return { seg, size: buf.length, ...decodeRecords(buf) };
      });
    // What a record costs here on average: the yardstick for damage whose ids are unknown (at a segment's end).
    const good = decoded.flatMap((d) => d.records);
    const meanBytes = good.length > 0 ? good.reduce((sum, r) => sum + r.bytes, 0) / good.length : 128;
    let lost = 0;
    let damaged = false;
    for (const { seg, size, records, damage } of decoded) {
      let end = size;
      const tail = damage.at(-1);
      if (tail && tail.offset + tail.bytes === size) {
        // Nothing readable follows: cut it, so that the next start does not report it again.
        f.truncateSync(seg.file, tail.offset);
        end = tail.offset;
      }
      if (damage.length > 0) {
        const note = damageNote(path.basename(seg.file), damage, records, acks, meanBytes);
        notes.push(note);
        lost += note.fields.lost as number;
        if (damage.some((d) => d.offset + d.bytes < size)) damaged = true;
      }
      seg.bytes = end;
      this.segments.push(seg);
      this.totalBytes += end;
      this.nextSeq = seg.seq + 1;
      for (const r of records) {
        highestId = Math.max(highestId, r.id);
        // A duplicate comes from a rewrite cut short: the first copy is as good as the second.
        if (isSettled(acks, r.id) || found.has(r.id)) continue;
        found.set(r.id, { ...r, seg });
        seg.live++;
      }
    }
    const ordered = [...found.values()].sort((a, b) => a.id - b.id);
    for (const r of ordered) {
      this.live.set(r.id, { seg: r.seg, bytes: r.bytes });
      this.liveBytes += r.bytes;
    }
    for (const seg of [...this.segments]) if (seg.live === 0) this.remove(seg);
    return { records: ordered.map(({ id, msg }) => ({ id, msg })), highestId, notes, lost, damaged };
  }

  private segmentAt(seq: number): Segment {
    const file = path.join(this.dir, `seg-${String(seq).padStart(12, '0')}.log`);
    return { seq, file, fd: null, bytes: 0, live: 0, syncing: 0, retired: false };
  }

  private createSegment(): Segment {
    const seg = this.segmentAt(this.nextSeq++);
    seg.fd = this.opts.fs.openSync(seg.file, 'a', 0o640);
    if (this.opts.fsync) {
      // The new file's directory entry must reach the disk too, or a power cut can lose a segment whose data was synced.
      const dfd = this.opts.fs.openSync(this.dir, 'r');
      try {
        this.opts.fs.fsyncSync(dfd);
      } finally {
        this.opts.fs.closeSync(dfd);
      }
    }
    return seg;
  }

  private rotate(): void {
    const seg = this.createSegment();
    const prev = this.active;
    this.segments.push(seg);
    this.active = seg;
    if (!prev) return;
    if (this.opts.fsync && this.dataDirty) this.syncSegment(prev);
    this.dataDirty = false;
    this.retire(prev);
    if (prev.live === 0) this.remove(prev);
  }

  private remove(seg: Segment): void {
    this.retire(seg);
    try {
      this.opts.fs.unlinkSync(seg.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.totalBytes -= seg.bytes;
    this.segments = this.segments.filter((s) => s !== seg);
    if (this.active === seg) this.active = null;
  }

  private retire(seg: Segment): void {
    seg.retired = true;
    if (seg.syncing === 0 && seg.fd !== null) {
      const fd = seg.fd;
      seg.fd = null;
      try {
        this.opts.fs.closeSync(fd);
      } catch {
        // Nothing more to do with it either way.
      }
    }
  }

  private syncSegment(seg: Segment): void {
    if (seg.fd === null) return;
    seg.syncing++;
    const done = new Promise<void>((resolve) => {
      this.opts.fs.fdatasync(seg.fd!, (err) => {
        seg.syncing--;
        if (seg.retired) this.retire(seg);
        this.inflight.delete(done);
        resolve();
        if (err && !this.closed) this.opts.onAsyncError(err);
      });
    });
    this.inflight.add(done);
  }
}

/** Writes all of `text` at the start of the file; a short write is ENOSPC. */
function writeWhole(f: OutboxFs, fd: number, text: string): void {
  const buf = Buffer.from(text);
  const n = f.writeSync(fd, buf, 0, buf.length, 0);
  // A regular file written short has hit the end of the space (or a quota).
  if (n !== buf.length) throw Object.assign(new Error(`short write: ${n} of ${buf.length} bytes`), { code: 'ENOSPC' });
}

function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function unlinkQuietly(f: OutboxFs, file: string): void {
  try {
    f.unlinkSync(file);
  } catch {
    // Not there, or not ours to fix: a stray acks.json.tmp is deleted by the next load.
  }
}
