import type { AppConfig } from './index.js';

/** Keys (dotted, `cameras.<name>.` for per-camera ones) whose new value SIGHUP applies without a restart. */
const LIVE = [/^log\.level$/, /^filters\./, /^stats\.intervalSec$/, /^cameras\.[^.]+\.filters\./, /^cameras\.[^.]+\.detect\.fps$/];

function leaves(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
}

export interface ConfigChanges {
  /** Changed keys applied live. */
  live: string[];
  /** Changed keys that take effect only after a restart (cameras added or removed count as `cameras.<name>`). */
  restart: string[];
}

/** What differs between the running config and a newly loaded one, split by whether it can be applied live. */
export function diffConfig(before: AppConfig, after: AppConfig): ConfigChanges {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  leaves(before, '', a);
  leaves(after, '', b);
  const changes: ConfigChanges = { live: [], restart: [] };
  const camerasBefore = new Set(Object.keys(before.cameras));
  const camerasAfter = new Set(Object.keys(after.cameras));
  for (const name of new Set([...camerasBefore, ...camerasAfter])) {
    if (camerasBefore.has(name) !== camerasAfter.has(name)) changes.restart.push(`cameras.${name}`);
  }
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const camera = /^cameras\.([^.]+)\./.exec(key)?.[1];
    if (camera && !(camerasBefore.has(camera) && camerasAfter.has(camera))) continue; // counted above
    if (a.get(key) === b.get(key)) continue;
    (LIVE.some((re) => re.test(key)) ? changes.live : changes.restart).push(key);
  }
  changes.live.sort();
  changes.restart.sort();
  return changes;
}
