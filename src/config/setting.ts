import type { Check } from './formats.js';

/**
 * One leaf of a convict schema, restricted to what this project needs: every key has a doc and a typed
 * format, and the extra fields (`path`, `defaultDoc`) drive path resolution and the reference docs.
 */
export interface Setting<T> {
  doc: string;
  format: Check<T>;
  /** null only for required keys (their format rejects null, which is how convict makes a key required). */
  default: NoInfer<T> | null;
  env?: string;
  sensitive?: boolean;
  /** A filesystem path resolved against the config file's directory; `file` must exist, `pattern` may be a glob. */
  path?: 'file' | 'pattern';
  /** Shown in the docs instead of the computed default (e.g. the host name of whoever built the docs). */
  defaultDoc?: string;
}

export interface SchemaTree {
  [key: string]: Setting<unknown> | SchemaTree;
}

/** The config type described by a schema: each leaf is the type its format proves. */
export type ValueOf<S> = S extends { format: Check<infer T> } ? T : { [K in keyof S]: ValueOf<S[K]> };

export const RELATIVE_PATH_NOTE = "Relative paths are resolved against the config file's directory.";

export function setting<T>(s: Setting<T>): Setting<T> {
  return s.path ? { ...s, doc: `${s.doc} ${RELATIVE_PATH_NOTE}` } : s;
}

export function isSetting(node: unknown): node is Setting<unknown> {
  return typeof node === 'object' && node !== null && 'default' in node && 'format' in node;
}

/** Every leaf with its dotted key path, in schema order. */
export function leaves(tree: SchemaTree, prefix = ''): [string, Setting<unknown>][] {
  return Object.entries(tree).flatMap(([key, node]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isSetting(node) ? [[path, node] as [string, Setting<unknown>]] : leaves(node as SchemaTree, path);
  });
}

export function findSetting(tree: SchemaTree, path: string): Setting<unknown> | undefined {
  let node: unknown = tree;
  for (const key of path.split('.')) {
    if (isSetting(node) || typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return isSetting(node) ? node : undefined;
}

/** The longest prefix of `path` that names a section or key of the schema ('' when even the first segment is unknown). */
export function knownPrefix(tree: SchemaTree, path: string): string {
  const known: string[] = [];
  let node: unknown = tree;
  for (const key of path.split('.')) {
    if (isSetting(node) || typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) break;
    known.push(key);
    node = (node as Record<string, unknown>)[key];
  }
  return known.join('.');
}

export function childKeys(tree: SchemaTree, sectionPath: string): string[] {
  let node: unknown = tree;
  for (const key of sectionPath ? sectionPath.split('.') : []) node = (node as Record<string, unknown>)[key];
  return isSetting(node) || typeof node !== 'object' || node === null ? [] : Object.keys(node);
}

export function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let cur = obj;
  for (const key of keys) cur = cur[key] as Record<string, unknown>;
  cur[last] = value;
}
