import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../system/logger.js';

export type SaveResult = { ok: true; path: string; pruned: number } | { ok: false; error: Error };

export interface SnapshotStoreOptions {
  logger?: Pick<Logger, 'warn'>;
  /** Date.now() by default; the file name's timestamp when save() is given none. */
  now?: () => number;
}

/** A snapshot file this store wrote: `<camera>-<eventId>-<ts>.jpg`, ts in epoch milliseconds. */
const SNAPSHOT_RE = /^[A-Za-z0-9_-]+-(\d+)\.jpg$/;
/** Half-written files: invisible to anything that lists `*.jpg`, removed at the next prune. */
const TMP_PREFIX = '.snapshot-';

/** Keeps file names to one safe path segment whatever a camera or event id holds. */
export function fileSafe(part: string): string {
  const s = part.replace(/[^A-Za-z0-9_-]/g, '_');
  return s.length > 0 ? s : '_';
}

export function snapshotFileName(camera: string, eventId: string, ts: number): string {
  return `${fileSafe(camera)}-${fileSafe(eventId)}-${Math.max(0, Math.trunc(ts))}.jpg`;
}

/**
 * Writes snapshots to a directory and keeps the newest `keep` of them (the whole directory, all cameras together).
 * Each file appears whole or not at all (written to a hidden temporary name, synced, renamed). Saves run one at a
 * time. Failures (an unwritable or full disk) are logged and returned, never thrown: a snapshot is never worth the
 * pipeline.
 */
export class SnapshotStore {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    readonly keep: number,
    private readonly opts: SnapshotStoreOptions = {},
  ) {
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`snapshot store: keep must be a positive integer, got ${keep}`);
    this.now = opts.now ?? Date.now;
  }

  save(camera: string, eventId: string, jpeg: Buffer, ts: number = this.now()): Promise<SaveResult> {
    const run = this.chain.then(() => this.write(camera, eventId, jpeg, ts));
    this.chain = run;
    return run;
  }

  /** Snapshot file names in the directory, oldest first; [] when it cannot be read. */
  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names
      .map((name) => ({ name, ts: Number(SNAPSHOT_RE.exec(name)?.[1] ?? NaN) }))
      .filter((f) => Number.isFinite(f.ts))
      .sort((a, b) => a.ts - b.ts || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((f) => f.name);
  }

  private async write(camera: string, eventId: string, jpeg: Buffer, ts: number): Promise<SaveResult> {
    const name = snapshotFileName(camera, eventId, ts);
    const path = join(this.dir, name);
    const tmp = join(this.dir, `${TMP_PREFIX}${randomBytes(6).toString('hex')}.tmp`);
    try {
      await mkdir(this.dir, { recursive: true });
      const fh = await open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(jpeg);
        // Without it a power cut after the rename can leave an empty file under the final name.
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      const error = e instanceof Error ? e : new Error(String(e));
      this.opts.logger?.warn({ err: error, dir: this.dir, file: name }, 'could not write snapshot');
      return { ok: false, error };
    }
    return { ok: true, path, pruned: await this.prune() };
  }

  /** Deletes the oldest snapshots beyond `keep`, and temporary files left by a crash. Returns how many it deleted. */
  private async prune(): Promise<number> {
    let deleted = 0;
    try {
      // Saves are serialised, so no temporary file of ours is in flight here.
      const stale = (await readdir(this.dir)).filter((n) => n.startsWith(TMP_PREFIX) && n.endsWith('.tmp'));
      const files = await this.list();
      for (const name of [...stale, ...files.slice(0, Math.max(0, files.length - this.keep))]) {
        try {
          await unlink(join(this.dir, name));
          deleted++;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
    } catch (e) {
      this.opts.logger?.warn({ err: e, dir: this.dir }, 'could not prune old snapshots');
    }
    return deleted;
  }
}
