import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json, config/ and models/ are), from src/system or dist/system alike. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/**
 * The entry of a child process that sits beside the module at `moduleUrl` (its import.meta.url): the compiled
 * `<name>.js` next to a compiled module, or `<name>.ts` under a TypeScript loader (the tests), run with that loader.
 */
export function siblingEntry(moduleUrl: string, name: string): { path: string; execArgv: string[] } {
  const here = fileURLToPath(moduleUrl);
  if (here.endsWith('.ts')) return { path: join(dirname(here), `${name}.ts`), execArgv: ['--import', 'tsx'] };
  return { path: join(dirname(here), `${name}.js`), execArgv: [] };
}
