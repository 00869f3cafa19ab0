import { execFileSync, spawnSync } from 'node:child_process';

/** promtool (Debian package prometheus), or '' when it is not installed: tests that need it skip and say so. */
export const PROMTOOL = ((): string => {
  try {
    return execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();

export const PROMTOOL_MISSING = PROMTOOL ? '' : 'promtool is not installed (Debian package prometheus)';

/** `promtool check metrics` over an exposition: its exit status and everything it said (problems are one a line). */
export function promtoolCheck(exposition: string): { status: number | null; said: string } {
  // promtool accepts empty input silently: an empty scrape must not pass as a clean one.
  if (exposition.trim() === '') throw new Error('empty exposition given to promtool');
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, said: `${r.stdout}${r.stderr}`.trim() };
}
