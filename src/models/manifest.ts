import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, ModelKind } from '../inference/types.js';

/** "sample" is a photo for the demo's files camera, stored under <dir>/samples/ rather than beside the models. */
export type EntryKind = ModelKind | 'labels' | 'sample';

/** One downloadable file of models/manifest.json. */
export interface ManifestEntry {
  /** The file name without its extension (.tflite, .txt, .jpg...); what users type. */
  name: string;
  file: string;
  url: string;
  /** null when upstream publishes no checksum and we could not pin one from a verified copy. */
  sha256: string | null;
  kind: EntryKind;
  backend: Backend | null;
  /** The same model built for the other backend: the CPU fallback of an Edge TPU model needs it. */
  twin: string | null;
  /** Name of the labels entry the model's class ids index into. */
  labels: string | null;
  /** "WxH" of the input tensor; null for labels files and samples. */
  input: string | null;
  default: boolean;
  description: string;
}

export interface Manifest {
  /** Where it was read from, so later errors can name it. */
  source: string;
  version: 1;
  models: ManifestEntry[];
}

/** Raised for a name the manifest does not know: a usage error, not a failure. */
export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
}

/** models/manifest.json sits two levels above both src/models/ and dist/models/, and ships in the npm package. */
export const DEFAULT_MANIFEST_PATH = fileURLToPath(new URL('../../models/manifest.json', import.meta.url));

/** Sample photos go in this subdirectory of the models directory, so a `files` camera can point at it alone. */
export const SAMPLES_SUBDIR = 'samples';
/** What the daemon's files camera reads. */
export const SAMPLE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.bmp'];

const KINDS: readonly string[] = ['classification', 'ssd', 'labels', 'sample'];
const BACKENDS: readonly string[] = ['cpu', 'edgetpu'];
const SHA256 = /^[0-9a-f]{64}$/;
const INPUT = /^[1-9][0-9]*x[1-9][0-9]*$/;
/** Names become file names: no path separators, no leading dot, nothing a shell needs quoted. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Where an entry lives relative to the models directory: samples/<file> for samples, <file> for the rest. */
export function entryRelativePath(entry: Pick<ManifestEntry, 'kind' | 'file'>): string {
  return entry.kind === 'sample' ? join(SAMPLES_SUBDIR, entry.file) : entry.file;
}

/** Where an entry lives in the models directory dir. */
export function entryPath(dir: string, entry: Pick<ManifestEntry, 'kind' | 'file'>): string {
  return join(dir, entryRelativePath(entry));
}

export async function loadManifest(path: string = DEFAULT_MANIFEST_PATH): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read model manifest ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  return parseManifest(json, path);
}

/** Checks shape and cross references; every error names the source and the entry. */
export function parseManifest(json: unknown, source: string): Manifest {
  const fail = (where: string, msg: string): never => {
    throw new Error(`${source}: ${where}: ${msg}`);
  };
  if (!isObject(json)) fail('top level', 'expected an object {"version": 1, "models": [...]}');
  const top = json as Record<string, unknown>;
  if (top.version !== 1) fail('version', `expected 1, got ${JSON.stringify(top.version)}`);
  if (!Array.isArray(top.models)) fail('models', 'expected an array');

  const models = (top.models as unknown[]).map((raw, i) => parseEntry(raw, `models[${i}]`, fail));
  const byName = new Map<string, ManifestEntry>();
  for (const [i, e] of models.entries()) {
    if (byName.has(e.name)) fail(`models[${i}] ("${e.name}")`, 'duplicate name');
    byName.set(e.name, e);
  }
  for (const [i, e] of models.entries()) {
    const where = `models[${i}] ("${e.name}")`;
    if (e.twin !== null) {
      const twin = byName.get(e.twin);
      if (!twin) fail(where, `twin "${e.twin}" is not in the manifest`);
      else if (twin.twin !== e.name) fail(where, `twin "${e.twin}" does not name "${e.name}" as its twin`);
      else if (twin.backend === e.backend) fail(where, `twin "${e.twin}" has the same backend (${String(e.backend)})`);
    }
    if (e.labels !== null && byName.get(e.labels)?.kind !== 'labels') {
      fail(where, `labels "${e.labels}" is not a labels entry of the manifest`);
    }
  }
  return { source, version: 1, models };
}

function parseEntry(raw: unknown, at: string, fail: (where: string, msg: string) => never): ManifestEntry {
  if (!isObject(raw)) return fail(at, 'expected an object');
  const where = typeof raw.name === 'string' ? `${at} ("${raw.name}")` : at;
  const str = (key: string): string => {
    const v = raw[key];
    return typeof v === 'string' && v.length > 0 ? v : fail(where, `${key} must be a non-empty string`);
  };
  const strOrNull = (key: string): string | null => (raw[key] === null ? null : str(key));

  const name = str('name');
  if (!NAME.test(name)) fail(where, 'name must be letters, digits, ".", "_" or "-", not starting with "." "_" or "-"');
  const file = str('file');
  const kind = str('kind');
  if (!KINDS.includes(kind)) fail(where, `kind must be one of ${KINDS.join(', ')}, got "${kind}"`);
  // name = file minus extension keeps "fetch-models NAME" and the file on disk obviously the same thing.
  if (kind === 'sample') {
    const ext = extname(file);
    if (!SAMPLE_EXTENSIONS.includes(ext) || file !== name + ext) {
      fail(where, `file must be "${name}" plus one of ${SAMPLE_EXTENSIONS.join(', ')}, got "${file}"`);
    }
  } else {
    const ext = kind === 'labels' ? '.txt' : '.tflite';
    if (file !== name + ext) fail(where, `file must be "${name}${ext}", got "${file}"`);
  }
  const url = str('url');
  if (!/^https?:\/\//.test(url) || !URL.canParse(url)) fail(where, `url is not an http(s) URL: "${url}"`);
  const sha256 = strOrNull('sha256');
  if (sha256 !== null && !SHA256.test(sha256)) fail(where, 'sha256 must be 64 lowercase hex digits or null');
  const backend = strOrNull('backend');
  const input = strOrNull('input');
  if (kind === 'labels' || kind === 'sample') {
    if (backend !== null || input !== null || raw.twin !== null || raw.labels !== null) {
      fail(where, `a ${kind} entry has null backend, input, twin and labels`);
    }
  } else {
    if (backend === null || !BACKENDS.includes(backend)) fail(where, `backend must be one of ${BACKENDS.join(', ')}`);
    if (input === null || !INPUT.test(input)) fail(where, 'input must look like "300x300"');
  }
  if (typeof raw.default !== 'boolean') fail(where, 'default must be true or false');
  return {
    name,
    file,
    url,
    sha256,
    kind: kind as EntryKind,
    backend: backend as Backend | null,
    twin: strOrNull('twin'),
    labels: strOrNull('labels'),
    input,
    default: raw.default as boolean,
    description: str('description'),
  };
}

/** Entries by name, in the order given; "x.tflite", "x.txt" and a sample's file name ("cat.bmp") are accepted for "x". */
export function findEntries(manifest: Manifest, names: readonly string[]): ManifestEntry[] {
  const found: ManifestEntry[] = [];
  const unknown: string[] = [];
  for (const raw of names) {
    const name = raw.replace(/\.(tflite|txt)$/, '');
    const entry = manifest.models.find((e) => e.name === raw || e.file === raw) ?? manifest.models.find((e) => e.name === name);
    if (entry) {
      if (!found.includes(entry)) found.push(entry);
    } else {
      unknown.push(raw);
    }
  }
  if (unknown.length > 0) {
    const known = manifest.models.map((e) => `  ${e.name}`).join('\n');
    throw new UnknownModelError(`unknown model ${unknown.map((n) => `"${n}"`).join(', ')}; known names:\n${known}`);
  }
  return found;
}

export function defaultEntries(manifest: Manifest): ManifestEntry[] {
  return manifest.models.filter((e) => e.default);
}

/**
 * Adds what a model cannot work without: its labels file, and for an Edge TPU build its CPU twin,
 * because the daemon falls back to the CPU when the TPU goes away and an _edgetpu file cannot run there.
 */
export function withDependencies(manifest: Manifest, entries: readonly ManifestEntry[]): ManifestEntry[] {
  const out = [...entries];
  const add = (name: string | null): void => {
    const e = name === null ? undefined : manifest.models.find((m) => m.name === name);
    if (e && !out.includes(e)) out.push(e);
  };
  for (const e of entries) {
    if (e.backend === 'edgetpu') add(e.twin);
  }
  for (const e of [...out]) add(e.labels);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
