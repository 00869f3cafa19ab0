#!/usr/bin/env node
// Compiles the WebAssembly resize kernel (src/pixels/wasm/i420-rgb.as.ts, AssemblyScript) to
// dist/pixels/wasm/i420-rgb.wasm, where src/pixels/pixel-arena.ts loads it. Part of `npm run build`; the tests'
// global setup runs it too (it skips the work when the .wasm is newer than its source).
//   node scripts/build-wasm.mjs [--force]
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'pixels', 'wasm', 'i420-rgb.as.ts');
const output = join(root, 'dist', 'pixels', 'wasm', 'i420-rgb.wasm');

const mtime = (f) => {
  try {
    return statSync(f).mtimeMs;
  } catch {
    return -1;
  }
};
if (process.argv.includes('--force') || mtime(output) <= mtime(source)) {
  mkdirSync(dirname(output), { recursive: true });
  const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  // -O3: speed; stub runtime and no asserts: the kernel allocates nothing and JavaScript checks every bound it is
  // given (pixel-arena.ts); the memory is the arena's (imported); SIMD for the row blends and the RGB interleave.
  execFileSync(process.execPath, [asc, source, '--outFile', output, '-O3', '--runtime', 'stub', '--noAssert', '--importMemory', '--enable', 'simd', '--enable', 'bulk-memory'], { stdio: 'inherit' });
}
