import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_TIMEOUT_MS, fetchModels, hashFile, type FetchReport } from './fetch.js';
import {
  defaultEntries,
  entryPath,
  entryRelativePath,
  loadManifest,
  SAMPLE_EXTENSIONS,
  SAMPLES_SUBDIR,
  UnknownModelError,
  type Manifest,
} from './manifest.js';
import { createProgressBar } from './progress.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
/** BSD sysexits EX_USAGE. */
export const EXIT_USAGE = 64;
/** 128 + SIGINT, what a shell reports for Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

export const SYSTEM_MODELS_DIR = '/var/lib/mobilenet-edge/models';

export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** stderr is a terminal: draw a progress bar. */
  isTTY: boolean;
  columns?: number;
  /** Aborts the downloads; without it SIGINT/SIGTERM do. */
  signal?: AbortSignal;
}

/** Seams for tests; production passes none. */
export interface FetchCommandDeps {
  manifest?: Manifest;
  fetchImpl?: typeof fetch;
  defaultDir?: string;
}

/**
 * A checkout keeps models beside the manifest (<root>/models, git-ignored); an installed package must not
 * write into node_modules, so it uses /var/lib. The installed package ships dist/ but not src/ (package.json "files").
 */
export function defaultModelsDir(moduleUrl: string = import.meta.url): string {
  const root = fileURLToPath(new URL('../../', moduleUrl));
  const isCheckout = existsSync(join(root, 'package.json')) && isDir(join(root, 'src'));
  return isCheckout ? join(root, 'models') : SYSTEM_MODELS_DIR;
}

export async function fetchModelsCommand(argv: string[], io: CliIo, deps: FetchCommandDeps = {}): Promise<number> {
  const defaultDir = deps.defaultDir ?? defaultModelsDir();
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    io.stderr.write(`fetch-models: ${(err as Error).message}\nTry 'mobilenet-edge fetch-models --help'.\n`);
    return EXIT_USAGE;
  }
  const { values, positionals } = args;
  const usage = (msg: string): number => {
    io.stderr.write(`fetch-models: ${msg}\nTry 'mobilenet-edge fetch-models --help'.\n`);
    return EXIT_USAGE;
  };
  if (values.help) {
    // Help must work even when the manifest is broken: that is when people read it.
    const m = deps.manifest ?? (await loadManifest().catch(() => undefined));
    io.stdout.write(helpText(m, defaultDir));
    return EXIT_OK;
  }
  if (values.all && positionals.length > 0) return usage('give either --all or names, not both');
  const timeoutS = values.timeout === undefined ? DEFAULT_TIMEOUT_MS / 1000 : Number(values.timeout);
  if (!(timeoutS > 0)) return usage(`--timeout wants a positive number of seconds, got "${values.timeout}"`);
  if (values.from?.some((d) => d === '')) return usage('--from wants a directory, got ""');

  let manifest: Manifest;
  try {
    manifest = deps.manifest ?? (await loadManifest());
  } catch (err) {
    io.stderr.write(`fetch-models: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
  const dir = values.dir ?? defaultDir;
  if (values.list) {
    io.stdout.write(await listText(manifest, dir));
    return EXIT_OK;
  }

  const bar = createProgressBar(io.stderr, { enabled: io.isTTY, columns: io.columns });
  const interrupt = io.signal ? undefined : new AbortController();
  const onSignal = (): void => interrupt?.abort();
  if (interrupt) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const signal = io.signal ?? interrupt?.signal;
  try {
    const reports = await fetchModels({
      names: positionals,
      all: values.all,
      dir,
      from: values.from,
      force: values.force,
      timeoutMs: timeoutS * 1000,
      signal,
      manifest,
      fetchImpl: deps.fetchImpl,
      progress: (entry, received, total) => bar.update(entry.file, received, total),
      log: (message) => {
        bar.done();
        io.stderr.write(`${message}\n`);
      },
    });
    bar.done();
    printReports(reports, dir, io);
    if (signal?.aborted) return EXIT_INTERRUPTED;
    return reports.some((r) => r.status === 'failed') ? EXIT_FAILED : EXIT_OK;
  } catch (err) {
    bar.done();
    if (err instanceof UnknownModelError) return usage(err.message);
    io.stderr.write(`fetch-models: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: 'string', multiple: true },
      dir: { type: 'string' },
      all: { type: 'boolean' },
      force: { type: 'boolean' },
      list: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function printReports(reports: FetchReport[], dir: string, io: CliIo): void {
  const counts = new Map<string, number>();
  for (const r of reports) {
    counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const line = `${r.status.padEnd(10)} ${entryRelativePath(r.entry)}: ${r.message}\n`;
    (r.status === 'failed' ? io.stderr : io.stdout).write(line);
  }
  const summary = ['fetched', 'copied', 'up-to-date', 'failed'].map((s) => `${counts.get(s) ?? 0} ${s}`).join(', ');
  io.stdout.write(`${summary} (in ${dir})\n`);
  // A Pi without internet (or behind a proxy) fails every download alike: say what to do instead.
  const offline = reports.filter((r) => r.status === 'failed' && /download .* failed: fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH|ETIMEDOUT|timed out/.test(r.message));
  if (offline.length > 0) {
    const files = offline.map((r) => r.entry.file).join(' ');
    io.stderr.write(`No network? Download ${files} on another machine (the URLs are in models/manifest.json), copy them into a folder here, and run the same command again with --from FOLDER\n`);
  }
}

async function listText(manifest: Manifest, dir: string): Promise<string> {
  const rows = [['NAME', 'KIND', 'BACKEND', 'INPUT', 'DEFAULT', 'SHA256', `IN ${dir}`]];
  for (const e of manifest.models) {
    const path = entryPath(dir, e);
    let state = 'missing';
    if (existsSync(path)) {
      const sha = await hashFile(path).catch(() => undefined);
      if (sha === undefined) state = 'unreadable';
      else if (e.sha256 === null) state = 'present (unverified)';
      else state = sha === e.sha256 ? 'ok' : 'SHA256 MISMATCH';
    }
    const sha = e.sha256 === null ? 'none published' : `${e.sha256.slice(0, 12)}…`;
    rows.push([e.name, e.kind, e.backend ?? '-', e.input ?? '-', e.default ? 'yes' : '', sha, state]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  return `manifest: ${manifest.source}\n${lines.join('\n')}\n`;
}

function helpText(manifest: Manifest | undefined, defaultDir: string): string {
  const defaults = manifest ? defaultEntries(manifest).map((e) => e.name).join(' ') : '(see the manifest)';
  const source = manifest?.source ?? 'models/manifest.json';
  const samples = join(defaultDir, SAMPLES_SUBDIR);
  return `Usage: mobilenet-edge fetch-models [--from DIR]... [--dir DIR] [--all] [--force] [--list] [NAME...]

Downloads the model, labels and sample photo files listed in the manifest
(${source}), checks their sha256 where one is published, and moves each
into place only when complete, so an interrupted run never leaves a partial file.

NAME is a manifest name, with or without its extension (see --list). A model's
labels file, and the CPU twin of an Edge TPU model (needed for the CPU fallback),
come with it. Without NAME, the defaults (the demo's model, labels and photos):
  ${defaults}

Sample photos (kind "sample": ${SAMPLE_EXTENSIONS.join(' ')}) go to the ${SAMPLES_SUBDIR}/ subdirectory of
--dir (by default ${samples}), so a "files" camera can point at that folder.

Options:
  --dir DIR      where the files go (default: ${defaultDir})
  --from DIR     copy from a local mirror directory instead of downloading; give it
                 several times to search several directories in order, e.g.
                 --from ../shared/models --from ../shared/images
                 (each file is looked up as DIR/FILE; a file in none of them fails)
  --all          every entry of the manifest
  --force        replace files even when present and verified
  --timeout SEC  give up on a download when no data arrives for SEC seconds (default ${DEFAULT_TIMEOUT_MS / 1000})
  --list         show the manifest (models, labels and samples) and which files are
                 present in --dir
  -h, --help     this text

Exit status: 0 all present, 1 some file failed, 64 usage error, 130 interrupted.
`;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
