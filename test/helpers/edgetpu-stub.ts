import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './paths.js';

const SOURCE = resolve(ROOT, 'test', 'fixtures', 'edgetpu-stub', 'stub_edgetpu.c');
export const STUB_DIR = resolve(ROOT, 'test', 'fixtures', 'build');
/** The stub libedgetpu, built by the global setup. */
export const STUB_LIBRARY = join(STUB_DIR, 'libedgetpu-stub.so.1');
/** A file named like a library that is not one: dlopen fails with "invalid ELF header". */
export const BROKEN_LIBRARY = join(STUB_DIR, 'libedgetpu-broken.so.1');

/** Compiles the stub with gcc against the TFLite headers tfjs-tflite-node ships; skips when up to date. */
export function buildStub(): void {
  mkdirSync(STUB_DIR, { recursive: true });
  let fresh = false;
  try {
    fresh = statSync(STUB_LIBRARY).mtimeMs > statSync(SOURCE).mtimeMs;
  } catch {
    fresh = false;
  }
  if (!fresh) {
    const include = resolve(ROOT, 'node_modules', 'tfjs-tflite-node', 'cc_deps', 'include');
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-Wall', '-I', include, SOURCE, '-o', STUB_LIBRARY], { stdio: 'inherit' });
  }
  writeFileSync(BROKEN_LIBRARY, 'this is not an ELF shared object\n');
}

/** Sets what the stub does next (see the modes in stub_edgetpu.c). */
export function setStubMode(controlFile: string, mode: string | Record<string, string>): void {
  const text = typeof mode === 'string' ? mode : Object.entries(mode).map(([k, v]) => `${k}=${v}`).join('\n');
  writeFileSync(controlFile, text + '\n');
}
