import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { runRawLoop } from '../bench/raw-loop.js';
import { pickFastest, sweepCandidates, type SweepPoint } from '../bench/sweep.js';
import type { Logger } from '../system/logger.js';

/** `detector.threads: 0`: how many CPU threads the runtime gets, measured once per model and machine. */
export interface ThreadChoice {
  threads: number;
  /** `cached`: a measurement from an earlier start; `measured`: now; `fallback`: measuring failed, 1 is used. */
  how: 'cached' | 'measured' | 'fallback';
  points?: SweepPoint[];
}

interface CacheFile {
  [key: string]: { threads: number; points: SweepPoint[]; measuredAt: string };
}

/** Inferences timed per thread count: long enough to settle, short enough for a first start (about 2.5 s a count). */
const MEASURE = { warmupMs: 500, measureMs: 2000 };

/** What a measurement holds for: this model file as it is now, on this machine (core count and CPU model). */
export function threadsKey(modelPath: string): string {
  const st = statSync(modelPath);
  const cpus = os.cpus();
  return [resolve(modelPath), st.size, Math.round(st.mtimeMs), cpus.length, cpus[0]?.model ?? 'cpu'].join('|');
}

/** Frames a second of the model with `threads` threads, on a picture of the model's input size. */
export type MeasureThreads = (threads: number) => Promise<number>;

export function rawLoopMeasure(modelPath: string, inputBytes: number, signal?: AbortSignal): MeasureThreads {
  // A smooth picture, not zeros: an SSD's box decoding costs what it costs on camera frames.
  const input = new Uint8Array(inputBytes);
  for (let i = 0; i < inputBytes; i++) input[i] = (i * 7 + ((i / 3000) | 0)) & 255;
  return async (threads) => (await runRawLoop({ modelPath, threads, inputs: [input], time: MEASURE, ...(signal ? { signal } : {}) })).fps;
}

/**
 * The thread count for `detector.threads: 0`: from `cacheFile` when this model was measured on this machine
 * before, else measured now (every count of sweepCandidates, the fastest kept; a tie goes to fewer threads) and kept
 * in `cacheFile` (when there is one: the service's state directory). Never fails: if measuring fails, 1.
 */
export async function chooseThreads(modelPath: string, cacheFile: string | null, measure: MeasureThreads, log: Logger, cores = os.cpus().length, signal?: AbortSignal): Promise<ThreadChoice> {
  let key: string;
  try {
    key = threadsKey(modelPath);
  } catch (err) {
    log.warn({ model: modelPath, err: (err as Error).message }, 'CPU threads to measure (detector.threads 0), but the model cannot be read: using 1 thread');
    return { threads: 1, how: 'fallback' };
  }
  const cache = cacheFile ? readCache(cacheFile) : {};
  const hit = cache[key];
  if (hit && Number.isInteger(hit.threads) && hit.threads >= 1) {
    log.info({ model: modelPath, threads: hit.threads, measuredAt: hit.measuredAt }, 'CPU threads: using the count measured for this model and machine');
    return { threads: hit.threads, how: 'cached', points: hit.points };
  }
  const points: SweepPoint[] = [];
  try {
    log.info({ model: modelPath, candidates: sweepCandidates(cores) }, 'CPU threads: measuring the fastest count (detector.threads 0; once for this model and machine)');
    for (const threads of sweepCandidates(cores)) {
      signal?.throwIfAborted();
      points.push({ threads, fps: await measure(threads) });
    }
  } catch (err) {
    signal?.throwIfAborted(); // a stop while measuring: no fallback, the start is over
    log.warn({ model: modelPath, err: (err as Error).message }, 'CPU threads: measuring failed; using 1 thread');
    return { threads: 1, how: 'fallback' };
  }
  const best = pickFastest(points);
  const summary = points.map((p) => `${p.threads}: ${p.fps} fps`).join(', ');
  if (cacheFile) {
    try {
      writeCache(cacheFile, { ...cache, [key]: { threads: best.threads, points, measuredAt: new Date().toISOString() } });
    } catch (err) {
      log.warn({ file: cacheFile, err: (err as Error).message }, 'CPU threads: cannot keep the measurement; it will be measured again at the next start');
    }
  }
  log.info({ model: modelPath, threads: best.threads, measured: summary, ...(cacheFile ? { keptIn: cacheFile } : {}) }, `CPU threads: ${best.threads} thread${best.threads === 1 ? '' : 's'} (${summary})`);
  return { threads: best.threads, how: 'measured', points };
}

function readCache(file: string): CacheFile {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as CacheFile) : {};
  } catch {
    return {}; // missing or damaged: measured again, and rewritten
  }
}

function writeCache(file: string, cache: CacheFile): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(cache, null, 2) + '\n');
  renameSync(tmp, file);
}
