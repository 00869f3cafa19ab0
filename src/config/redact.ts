import { cameraSchemas, type SourceType } from './cameras.js';
import type { AppConfig } from './load.js';
import { appSchema } from './schema.js';
import { getPath, leaves, setPath, type SchemaTree } from './setting.js';

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

const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*:)[^@/\s]+@/i;

function maskUrlPasswords(val: unknown): unknown {
  if (typeof val === 'string') return val.replace(URL_PASSWORD, `$1${REDACTED}@`);
  if (Array.isArray(val)) return val.map(maskUrlPasswords);
  if (typeof val === 'object' && val !== null) {
    return Object.fromEntries(Object.entries(val).map(([k, v]) => [k, maskUrlPasswords(v)]));
  }
  return val;
}
