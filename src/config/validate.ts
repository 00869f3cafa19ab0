import path from 'node:path';
import convict from 'convict';
import type { ConfigProblem } from './errors.js';
import { accepts, isPlainObject } from './formats.js';
import { childKeys, findSetting, getPath, isSetting, knownPrefix, leaves, setPath, type SchemaTree, type Setting, type ValueOf } from './setting.js';

/** A path-valued key after resolution, for the file checks in load.ts. */
export interface PathValue {
  key: string;
  value: string;
  kind: 'file' | 'pattern';
}

export interface RunOptions {
  /** Environment for the schema's `env` keys; the camera schemas get {} so no variable leaks into every camera. */
  env: NodeJS.ProcessEnv;
  /** Prepended to every reported key, e.g. "cameras.front.". */
  prefix?: string;
  /** Relative `path` settings are resolved against this directory. */
  baseDir: string;
}

export interface RunResult<S> {
  value: ValueOf<S>;
  problems: ConfigProblem[];
  paths: PathValue[];
}

/**
 * Runs one convict instance of `schema` over `raw` (defaults <- raw <- env) with strict validation and
 * returns every problem instead of convict's single joined Error.
 */
export function runSchema<S extends SchemaTree>(schema: S, raw: Record<string, unknown>, opts: RunOptions): RunResult<S> {
  const prefix = opts.prefix ?? '';
  const problems: ConfigProblem[] = [];
  const deferred: [string, unknown][] = [];
  const clean = prepare(schema, raw, '', problems, deferred, prefix);

  const cfg = convict(schema as unknown as convict.Schema<unknown>, { env: opts.env, args: [] });
  cfg.load(clean);
  for (const [key, value] of deferred) cfg.set(key, value);
  try {
    cfg.validate({ allowed: 'strict' });
  } catch (err) {
    const instance = cfg.getProperties();
    for (const line of (err as Error).message.split('\n')) {
      const p = parseConvictLine(schema, line, instance);
      // prepare() already reported this key's own value; convict then saw the default instead.
      if (p && !problems.some((q) => q.key === prefix + p.key)) problems.push({ key: prefix + p.key, message: withEnvNote(schema, p.key, p.message, opts.env) });
    }
  }

  const value = cfg.getProperties() as Record<string, unknown>;
  const paths: PathValue[] = [];
  for (const [key, s] of leaves(schema)) {
    const v = getPath(value, key);
    if (!s.path || typeof v !== 'string' || v === '') continue;
    const resolved = path.resolve(opts.baseDir, v);
    setPath(value, key, resolved);
    paths.push({ key: prefix + key, value: resolved, kind: s.path });
  }
  return { value: value as ValueOf<S>, problems: dedupe(problems), paths };
}

/**
 * Drops what would make convict's loader coerce or crash, reporting it with the key's own check:
 * a string for a number/boolean/array key (convict would parseFloat/JSON.parse it), an object where a
 * plain value belongs, a non-object where a section belongs. Valid object values (the cameras and
 * perLabel maps) are set after loading, because convict's overlay walks into them as if they were sections.
 */
function prepare(
  tree: SchemaTree,
  raw: Record<string, unknown>,
  at: string,
  problems: ConfigProblem[],
  deferred: [string, unknown][],
  prefix: string,
): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  for (const [key, val] of Object.entries(raw)) {
    const keyPath = at ? `${at}.${key}` : key;
    const node = Object.hasOwn(tree, key) ? tree[key] : undefined;
    if (node === undefined || key === '__proto__') {
      if (key === '__proto__') problems.push({ key: prefix + keyPath, message: unknownKeyMessage(Object.keys(tree), key) });
      else clean[key] = val; // convict's strict mode reports it
    } else if (isSetting(node)) {
      const coerced = typeof val === 'string' && node.default !== null && typeof node.default !== 'string';
      if (isPlainObject(val) && accepts(node.format, val)) deferred.push([keyPath, val]);
      else if (coerced || isPlainObject(val)) problems.push({ key: prefix + keyPath, message: checkMessage(node, val) });
      else clean[key] = val;
    } else if (!isPlainObject(val)) {
      problems.push({ key: prefix + keyPath, message: `must be an object with keys ${Object.keys(node).join(', ')} (got ${show(val)})` });
    } else {
      clean[key] = prepare(node, val, keyPath, problems, deferred, prefix);
    }
  }
  return clean;
}

/** The key's own check message for `val`, with the value unless the key is sensitive. */
export function checkMessage(s: Setting<unknown>, val: unknown): string {
  try {
    s.format(val);
    return `is not valid${s.sensitive ? '' : ` (got ${show(val)})`}`;
  } catch (err) {
    return `${(err as Error).message}${s.sensitive ? '' : ` (got ${show(val)})`}`;
  }
}

const UNDECLARED = /^configuration param '(.*)' not declared in the schema$/;
const MISSING = /^configuration param '(.*)' missing from config, did you override its parent\?$/;
// "<key>: <message>[: value was <json>]"; keys are schema paths, so they hold no ": ".
const INVALID = /^([\w.-]+): (.*?)(?:: value was .*)?$/;

function parseConvictLine(schema: SchemaTree, line: string, instance: unknown): ConfigProblem | undefined {
  let m = UNDECLARED.exec(line);
  if (m?.[1] !== undefined) {
    // Report an unknown section once, not once per leaf inside it.
    const known = knownPrefix(schema, m[1]);
    const rest = m[1].slice(known ? known.length + 1 : 0).split('.');
    const key = known ? `${known}.${rest[0]}` : (rest[0] as string);
    return { key, message: unknownKeyMessage(childKeys(schema, known), rest[0] as string) };
  }
  m = MISSING.exec(line);
  if (m?.[1] !== undefined) return { key: m[1], message: 'is missing: its section was replaced by another value' };
  m = INVALID.exec(line);
  if (m?.[1] !== undefined && m[2] !== undefined) {
    const s = findSetting(schema, m[1]);
    const got = s?.sensitive ? '' : ` (got ${show(getPath(instance, m[1]))})`;
    return { key: m[1], message: m[2] + got };
  }
  return line.trim() ? { key: '', message: line } : undefined;
}

function unknownKeyMessage(allowed: string[], key: string): string {
  const near = allowed.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2);
  return `unknown key${near ? ` (did you mean "${near}"?)` : ''}; allowed here: ${allowed.join(', ')}`;
}

function withEnvNote(schema: SchemaTree, key: string, message: string, env: NodeJS.ProcessEnv): string {
  const name = findSetting(schema, key)?.env;
  return name && env[name] !== undefined ? `${message} (from environment variable ${name})` : message;
}

export function show(val: unknown): string {
  if (val === undefined) return 'nothing';
  const s = JSON.stringify(val);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.key}\0${p.message}`;
    return seen.has(id) ? false : (seen.add(id), true);
  });
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] as number;
}
