import { cameraSchemas, type SourceType } from './cameras.js';
import type { AppConfig } from './load.js';
import { appSchema } from './schema.js';
import { getPath, leaves, setPath, type SchemaTree } from './setting.js';
import { maskUrlValue, urlPasswords } from '../system/secrets.js';

export const REDACTED = '[redacted]';

/**
 * A copy of the config safe to print or log: every key marked `sensitive` in the schemas is replaced,
 * and so is the password part of any URL (an RTSP input or the broker URL may carry user:password@).
 * Unset (null) secrets stay null: that they are unset reveals nothing and helps debugging.
 */
export function redactConfig(config: AppConfig): Record<string, unknown> {
  const copy = maskUrlPasswords(config) as Record<string, unknown>;
  redactTree(appSchema, copy);
  for (const cam of Object.values(copy.cameras as Record<string, Record<string, unknown>>)) {
    const type = getPath(cam, 'source.type') as SourceType;
    if (Object.hasOwn(cameraSchemas, type)) redactTree(cameraSchemas[type] as SchemaTree, cam);
  }
  return copy;
}

function redactTree(schema: SchemaTree, obj: Record<string, unknown>): void {
  for (const [key, s] of leaves(schema)) {
    const val = getPath(obj, key);
    if (s.sensitive && val !== null && val !== undefined) setPath(obj, key, REDACTED);
  }
}

function maskUrlPasswords(val: unknown): unknown {
  if (typeof val === 'string') return maskUrlValue(val);
  if (Array.isArray(val)) return val.map(maskUrlPasswords);
  if (typeof val === 'object' && val !== null) {
    return Object.fromEntries(Object.entries(val).map(([k, v]) => [k, maskUrlPasswords(v)]));
  }
  return val;
}

/**
 * Every secret the config holds, for the log scrubber: the values of keys marked `sensitive` (strings only) and the
 * password of every URL-valued string (a camera's input, the broker URL), raw and percent-decoded.
 */
export function configSecrets(config: AppConfig): string[] {
  const found = new Set<string>();
  const visit = (val: unknown): void => {
    if (typeof val === 'string') for (const p of urlPasswords(val)) found.add(p);
    else if (Array.isArray(val)) val.forEach(visit);
    else if (typeof val === 'object' && val !== null) Object.values(val).forEach(visit);
  };
  visit(config);
  const sensitive = (schema: SchemaTree, obj: unknown): void => {
    for (const [key, s] of leaves(schema)) {
      const v = getPath(obj, key);
      if (s.sensitive && !s.path && typeof v === 'string' && v !== '') found.add(v); // a key file's path is no secret
    }
  };
  sensitive(appSchema, config);
  for (const cam of Object.values(config.cameras)) {
    const type = getPath(cam, 'source.type') as SourceType;
    if (Object.hasOwn(cameraSchemas, type)) sensitive(cameraSchemas[type] as SchemaTree, cam);
  }
  return [...found];
}
