import { appSchema, type DetectorConfig, type FiltersConfig } from './schema.js';
import { runSchema } from './validate.js';

/** One slice of the config from a partial object, through the schema (its defaults, its validation). */
function slice<K extends 'detector' | 'filters'>(key: K, raw: Record<string, unknown>, baseDir: string) {
  const { value, problems } = runSchema(appSchema[key], raw, { env: {}, baseDir });
  if (problems.length > 0) throw new Error(`bad ${key} settings: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`);
  return value;
}

/**
 * The `detector` slice from a partial object, through the schema (its defaults, its validation), for code that builds
 * a detector outside a config file: the bench, scripts, tests. Throws with every problem named by key.
 */
export function detectorConfig(raw: Record<string, unknown>, baseDir = process.cwd()): DetectorConfig {
  return slice('detector', raw, baseDir) as DetectorConfig;
}

/** The `filters` slice the same way: `filtersConfig()` is the daemon's default filtering. */
export function filtersConfig(raw: Record<string, unknown> = {}, baseDir = process.cwd()): FiltersConfig {
  return slice('filters', raw, baseDir) as FiltersConfig;
}
