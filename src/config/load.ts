import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveCameras, type CameraConfig } from './cameras.js';
import { resolveClassifiers, type ClassifierConfig } from './classifiers.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { isPlainObject } from './formats.js';
import { mqttTlsProblems } from './mqtt-tls-check.js';
import { nestingDepth, parseJson } from './json.js';
import { appSchema, type GlobalConfig } from './schema.js';
import { runSchema, type PathValue } from './validate.js';

/** The whole validated config: the global keys from the schema plus the resolved cameras. */
export interface AppConfig extends Omit<GlobalConfig, 'cameras' | 'classifiers'> {
  cameras: Record<string, CameraConfig>;
  classifiers: ClassifierConfig[];
}

export interface LoadOptions {
  /** Config file; otherwise MOBILENET_EDGE_CONFIG, then <projectRoot>/config/local.json, then the system path. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Check that model, label, TLS and image paths exist (default true; false for validating a config elsewhere). */
  checkFiles?: boolean;
  projectRoot?: string;
}

export const CONFIG_ENV = 'MOBILENET_EDGE_CONFIG';
export const SYSTEM_CONFIG = '/etc/mobilenet-edge/config.json';
// src/config/load.ts and dist/config/load.js both sit two levels below the project root.
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Which file to read and why, so a missing file can say where the name came from. */
export function chooseConfigFile(opts: LoadOptions = {}): { file: string; reason: string } {
  const env = opts.env ?? process.env;
  if (opts.file) return { file: path.resolve(opts.file), reason: 'given on the command line' };
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv) return { file: path.resolve(fromEnv), reason: `from ${CONFIG_ENV}` };
  const local = path.join(opts.projectRoot ?? PROJECT_ROOT, 'config', 'local.json');
  if (fs.existsSync(local)) return { file: local, reason: 'the checkout\'s config/local.json' };
  return { file: SYSTEM_CONFIG, reason: `the default; pass --config FILE or set ${CONFIG_ENV}` };
}

/** defaults <- JSON file <- environment, validated; throws ConfigError listing every problem. */
export function loadConfig(opts: LoadOptions = {}): { config: AppConfig; file: string } {
  const env = opts.env ?? process.env;
  const { file, reason } = chooseConfigFile(opts);
  const raw = readConfigFile(file, reason);

  const baseDir = path.dirname(file);
  const global = runSchema(appSchema, raw, { env, baseDir });
  const problems: ConfigProblem[] = [...global.problems];
  const paths: PathValue[] = [...global.paths];
  const config = global.value as unknown as AppConfig;

  if (!problems.some((p) => p.key === 'cameras') && isPlainObject(global.value.cameras)) {
    const cams = resolveCameras(global.value.cameras, global.value.filters, baseDir);
    problems.push(...cams.problems);
    paths.push(...cams.paths);
    config.cameras = cams.cameras;
  }
  if (!problems.some((p) => p.key === 'classifiers') && Array.isArray(global.value.classifiers)) {
    const cls = resolveClassifiers(global.value.classifiers, baseDir);
    problems.push(...cls.problems);
    paths.push(...cls.paths);
    config.classifiers = cls.classifiers;
  }
  problems.push(...crossChecks(global.value));
  if (opts.checkFiles ?? true) {
    for (const p of paths) {
      const message = problems.some((q) => q.key === p.key) ? undefined : checkPath(p);
      if (message) problems.push({ key: p.key, message: message + ((MODEL_KEYS.has(p.key) || /^classifiers\[\d+\]\.(model\.|labels$)/.test(p.key)) && message.startsWith('file not found') ? FETCH_HINT : '') });
    }
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { config, file };
}

/** A config is a few KB; these bounds keep a wrong or hostile file from costing minutes or the stack. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_CONFIG_DEPTH = 32;

function readConfigFile(file: string, reason: string): Record<string, unknown> {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError(file, [{ key: '', message: `is ${size} bytes: a config file may have at most ${MAX_CONFIG_BYTES} (1 MiB); is this the right file?` }]);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'config file not found' : code === 'EISDIR' ? 'is a directory, not a config file' : `cannot read config file (${code ?? String(err)})`;
    throw new ConfigError(file, [{ key: '', message: `${what} (${reason})` }]);
  }
  const depth = nestingDepth(text, MAX_CONFIG_DEPTH);
  if (depth > MAX_CONFIG_DEPTH) {
    throw new ConfigError(file, [{ key: '', message: `nests objects and arrays more than ${MAX_CONFIG_DEPTH} levels deep; a valid config needs fewer than 10` }]);
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    throw new ConfigError(file, [{ key: '', message: `invalid JSON at line ${parsed.line}, column ${parsed.column}: ${parsed.message}` }]);
  }
  if (!isPlainObject(parsed.value)) throw new ConfigError(file, [{ key: '', message: 'must contain a JSON object ({ ... })' }]);
  const proto = findProtoKey(parsed.value, '');
  // JSON.parse keeps a "__proto__" key, but every later copy of the object silently drops it (a camera would vanish).
  if (proto !== undefined) throw new ConfigError(file, [{ key: proto, message: '"__proto__" cannot be a key: JavaScript drops it; choose another name' }]);
  return parsed.value;
}

/** The path of the first "__proto__" key anywhere in a parsed document, or undefined. */
function findProtoKey(val: unknown, at: string): string | undefined {
  if (Array.isArray(val)) {
    for (const [i, v] of val.entries()) {
      const found = findProtoKey(v, `${at}[${i}]`);
      if (found !== undefined) return found;
    }
  } else if (isPlainObject(val)) {
    for (const [k, v] of Object.entries(val)) {
      const path = at ? `${at}.${k}` : k;
      if (k === '__proto__') return path;
      const found = findProtoKey(v, path);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

const MODEL_KEYS = new Set(['detector.model.cpu', 'detector.model.edgetpu', 'detector.labels']);
const FETCH_HINT = ': fetch it with `mobilenet-edge fetch-models --dir DIR NAME` (`fetch-models --list` names them; without network add --from FOLDER, a folder holding the files)';

/** Rules between keys, which convict's per-key formats cannot express. */
function crossChecks(c: GlobalConfig): ConfigProblem[] {
  const { backend, model } = c.detector;
  const problems: ConfigProblem[] = [];
  if (backend === 'auto' && model.cpu === null && model.edgetpu === null) {
    problems.push({ key: 'detector.model', message: 'set detector.model.cpu and/or detector.model.edgetpu (both are null)' });
  }
  if (backend === 'cpu' && model.cpu === null) {
    problems.push({ key: 'detector.model.cpu', message: 'is required with detector.backend "cpu"' });
  }
  if (backend === 'edgetpu' && model.edgetpu === null) {
    problems.push({ key: 'detector.model.edgetpu', message: 'is required with detector.backend "edgetpu"' });
  }
  // An _edgetpu model is a single Edge TPU custom op: the CPU cannot run it, it needs the plain twin.
  if (typeof model.cpu === 'string' && /_edgetpu\.tflite$/.test(model.cpu)) {
    problems.push({ key: 'detector.model.cpu', message: 'is an Edge TPU model (*_edgetpu.tflite); the CPU needs its plain twin (*.tflite)' });
  }
  problems.push(...mqttTlsProblems(c.mqtt));
  return problems;
}

function checkPath(p: PathValue): string | undefined {
  if (p.kind === 'pattern' && /[*?[{]/.test(p.value)) {
    const parent = globParent(p.value);
    return isDir(parent) ? undefined : `directory of the glob not found: ${parent}`;
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p.value);
  } catch {
    return `file not found: ${p.value}`;
  }
  if (p.kind === 'file' && !stat.isFile()) return `is not a regular file: ${p.value}`;
  try {
    fs.accessSync(p.value, fs.constants.R_OK);
  } catch {
    return `not readable by this user: ${p.value}`;
  }
  return undefined;
}

/** The directory part before the first segment holding a glob character. */
function globParent(pattern: string): string {
  const parts = pattern.split(path.sep);
  const firstGlob = parts.findIndex((s) => /[*?[{]/.test(s));
  return parts.slice(0, firstGlob).join(path.sep) || path.sep;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
