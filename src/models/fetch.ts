import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { addAbortSignal } from 'node:stream';
import {
  defaultEntries,
  entryPath,
  findEntries,
  loadManifest,
  withDependencies,
  type Manifest,
  type ManifestEntry,
} from './manifest.js';

export type FetchStatus = 'fetched' | 'copied' | 'up-to-date' | 'failed';

export interface FetchReport {
  entry: ManifestEntry;
  /** Destination path (<dir>/samples/<file> for a sample). */
  path: string;
  status: FetchStatus;
  /** Size of the file on disk (absent when failed). */
  bytes?: number;
  /** sha256 of the file on disk, hashed while it was written or checked. */
  sha256?: string;
  /** True only when that sha256 was compared with a published one. */
  verified: boolean;
  /** Why it failed, or what the user should know (e.g. that no checksum exists). */
  message: string;
}

export type ProgressFn = (entry: ManifestEntry, received: number, total: number | null) => void;

export interface FetchOptions {
  /** Manifest names (".tflite" optional); empty means the default entries. */
  names: readonly string[];
  all?: boolean;
  /** Destination directory, created when missing; samples go to its samples/ subdirectory. */
  dir: string;
  /**
   * Local mirror directories: copy from them instead of downloading. Each entry's file is looked up
   * as <mirror>/<file> in each directory in turn, the first hit wins; an entry in none of them fails.
   */
  from?: string | readonly string[];
  /** Replace files even when present and verified. */
  force?: boolean;
  /** Also fetch labels files and the CPU twin of Edge TPU models (default true). */
  dependencies?: boolean;
  progress?: ProgressFn;
  /** Human-readable notes about what is happening (one line each). */
  log?: (message: string) => void;
  /** Longest wait for the response or for the next chunk of data (default 30 s). */
  timeoutMs?: number;
  /** Abort everything (Ctrl-C): the current part file is removed, later entries fail as aborted. */
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  manifest?: Manifest;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** Resolves names (throws UnknownModelError) and fetches each entry in turn; one failure does not stop the others. */
export async function fetchModels(opts: FetchOptions): Promise<FetchReport[]> {
  const manifest = opts.manifest ?? (await loadManifest());
  let entries = opts.all
    ? manifest.models
    : opts.names.length > 0
      ? findEntries(manifest, opts.names)
      : defaultEntries(manifest);
  if (opts.dependencies !== false) entries = withDependencies(manifest, entries);

  try {
    await mkdir(opts.dir, { recursive: true });
  } catch (err) {
    throw new Error(`cannot create models directory ${opts.dir}: ${(err as Error).message}`);
  }
  const mirrors = opts.from === undefined ? [] : typeof opts.from === 'string' ? [opts.from] : [...opts.from];
  const reports: FetchReport[] = [];
  for (const entry of entries) reports.push(await fetchOne(entry, opts, mirrors));
  return reports;
}

async function fetchOne(entry: ManifestEntry, opts: FetchOptions, mirrors: readonly string[]): Promise<FetchReport> {
  const path = entryPath(opts.dir, entry);
  const failed = (message: string): FetchReport => ({ entry, path, status: 'failed', verified: false, message });
  if (opts.signal?.aborted) return failed('aborted before it started');
  try {
    if (!opts.force) {
      const present = await checkPresent(entry, path, opts.log);
      if (present) return present;
    }
    const copy = mirrors.length > 0;
    const { bytes, sha256 } = copy ? await copyFromMirror(entry, path, mirrors, opts) : await download(entry, path, opts);
    return {
      entry,
      path,
      status: copy ? 'copied' : 'fetched',
      bytes,
      sha256,
      verified: entry.sha256 !== null,
      message: entry.sha256 !== null ? `${bytes} bytes, sha256 verified` : noChecksum(bytes, sha256),
    };
  } catch (err) {
    return failed(describe(err));
  }
}

/** An existing file counts only when it matches the published sha256; without one we keep it rather than re-download forever. */
async function checkPresent(entry: ManifestEntry, path: string, log?: (m: string) => void): Promise<FetchReport | null> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return null;
  if (!st.isFile()) throw new Error(`${path} exists and is not a regular file`);
  const sha256 = await hashFile(path);
  if (entry.sha256 === null) {
    const message = `present; ${noChecksum(st.size, sha256)}; kept (--force to re-download)`;
    return { entry, path, status: 'up-to-date', bytes: st.size, sha256, verified: false, message };
  }
  if (sha256 === entry.sha256) {
    return { entry, path, status: 'up-to-date', bytes: st.size, sha256, verified: true, message: 'sha256 verified' };
  }
  log?.(`${path}: sha256 ${sha256} differs from the manifest's ${entry.sha256}; replacing it`);
  return null;
}

function noChecksum(bytes: number, sha256: string): string {
  return `no checksum published; size ${bytes} bytes (sha256 ${sha256}, not verified)`;
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function copyFromMirror(entry: ManifestEntry, dest: string, mirrors: readonly string[], opts: FetchOptions): Promise<Written> {
  const tried: string[] = [];
  let found: { src: string; size: number } | undefined;
  for (const from of mirrors) {
    const src = join(from, entry.file);
    const st = await stat(src).catch(() => null);
    if (st?.isFile()) {
      found = { src, size: st.size };
      break;
    }
    tried.push(src);
  }
  if (!found) {
    throw new Error(
      tried.length === 1
        ? `not in the mirror: ${tried[0]} is missing`
        : `not in any mirror: ${tried.slice(0, -1).join(', ')} and ${tried.at(-1)} are missing`,
    );
  }
  const { src, size } = found;
  opts.log?.(`copying ${entry.file} from ${src}`);
  const stream = createReadStream(src);
  if (opts.signal) addAbortSignal(opts.signal, stream);
  try {
    return await writeVerified(entry, dest, { chunks: stream, total: size, origin: src }, opts.progress);
  } finally {
    // A no-op after a full read; closes the file when writing failed before reading started.
    stream.destroy();
  }
}

async function download(entry: ManifestEntry, dest: string, opts: FetchOptions): Promise<Written> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // An idle timer rather than one deadline for the whole transfer: a slow link on a Pi must not fail
  // a download that is still progressing, but a stalled server must never hang us.
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new Error('idle timeout')), timeoutMs);
  };
  const signal = opts.signal ? AbortSignal.any([idle.signal, opts.signal]) : idle.signal;
  const fetchImpl = opts.fetchImpl ?? fetch;
  opts.log?.(`downloading ${entry.file} from ${entry.url}`);
  touch();
  try {
    const res = await fetchImpl(entry.url, { signal, redirect: 'follow', headers: { 'user-agent': 'mobilenet-edge fetch-models' } });
    const redirected = res.url && res.url !== entry.url ? ` (redirected to ${res.url})` : '';
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      const status = res.statusText ? `${res.status} ${res.statusText}` : String(res.status);
      throw new Phrased(`HTTP ${status} for ${entry.url}${redirected}`);
    }
    // Content-Length counts encoded bytes when the server compresses, so only trust it for identity bodies.
    const length = res.headers.get('content-length');
    const total = length && /^\d+$/.test(length) && !res.headers.has('content-encoding') ? Number(length) : null;
    const chunks = res.body as unknown as AsyncIterable<Uint8Array>;
    try {
      return await writeVerified(entry, dest, { chunks, total, origin: entry.url + redirected }, opts.progress, touch);
    } catch (err) {
      // Fails (locked) when the iteration already cancelled it; frees the connection when writing failed before reading.
      await res.body.cancel().catch(() => undefined);
      throw err;
    }
  } catch (err) {
    if (idle.signal.aborted) throw new Error(`timed out: no data from ${entry.url} for ${timeoutMs} ms`);
    if (opts.signal?.aborted) throw new Error(`aborted while downloading ${entry.url}`);
    if (err instanceof Phrased) throw err;
    throw new Error(`download from ${entry.url} failed: ${describe(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

interface Source {
  chunks: AsyncIterable<Uint8Array>;
  total: number | null;
  /** URL or path, to name the culprit in errors. */
  origin: string;
}

interface Written {
  bytes: number;
  sha256: string;
}

/**
 * Streams into "<dest>.part-<random>" beside dest, hashing on the way, then renames over dest.
 * The rename is atomic within a directory, so a reader (or a crash) sees the old file or the whole new one;
 * on any failure the part file is removed, so nothing half-written is ever left behind.
 */
async function writeVerified(entry: ManifestEntry, dest: string, src: Source, progress?: ProgressFn, touch?: () => void): Promise<Written> {
  // Created only once there is something to write (e.g. <dir>/samples/), so a failed run leaves no empty folders.
  try {
    await mkdir(dirname(dest), { recursive: true });
  } catch (err) {
    throw new Phrased(`cannot create directory ${dirname(dest)}: ${(err as Error).message}`);
  }
  const part = `${dest}.part-${randomBytes(6).toString('hex')}`;
  const hash = createHash('sha256');
  const fh = await open(part, 'wx', 0o644);
  let closed = false;
  let bytes = 0;
  try {
    progress?.(entry, 0, src.total);
    for await (const chunk of src.chunks) {
      touch?.();
      if (chunk.length === 0) continue;
      hash.update(chunk);
      for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
      bytes += chunk.length;
      progress?.(entry, bytes, src.total);
    }
    if (src.total !== null && bytes !== src.total) {
      throw new Phrased(`truncated: got ${bytes} of ${src.total} bytes from ${src.origin}`);
    }
    const sha256 = hash.digest('hex');
    if (entry.sha256 !== null && sha256 !== entry.sha256) {
      throw new Phrased(`sha256 mismatch for ${entry.file} from ${src.origin}: expected ${entry.sha256}, got ${sha256} (${bytes} bytes)`);
    }
    // fsync before rename: after a power cut (common on a Pi) the name must not point at unwritten blocks.
    await fh.sync();
    closed = true;
    await fh.close();
    await rename(part, dest);
    return { bytes, sha256 };
  } catch (err) {
    if (!closed) await fh.close().catch(() => undefined);
    await rm(part, { force: true });
    throw err;
  }
}

/** An error whose message already says what and where; passed on unwrapped. */
class Phrased extends Error {}

/** undici hides the useful part ("connect ECONNREFUSED", "other side closed") in err.cause. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && !err.message.includes(cause) ? `${err.message} (${cause})` : err.message;
}
