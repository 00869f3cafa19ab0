import { appSchema, type DetectorConfig } from './schema.js';
import { runSchema } from './validate.js';

/**
 * The `detector` slice from a partial object, through the schema (its defaults, its validation), for code that builds
 * a detector outside a config file: the bench, scripts, tests. Throws with every problem named by key.
 */
export function detectorConfig(raw: Record<string, unknown>, baseDir = process.cwd()): DetectorConfig {
  const { value, problems } = runSchema(appSchema.detector, raw, { env: {}, baseDir });
  if (problems.length > 0) throw new Error(`bad detector settings: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`);
  return value;
}
