import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json, config/ and models/ are), from src/system or dist/system alike. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}
