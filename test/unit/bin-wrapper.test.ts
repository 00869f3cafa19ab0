import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const BIN = resolve('bin/mobilenet-edge');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the wrapper with a stand-in node that prints what it was given, MALLOC_ARENA_MAX included. */
function run(cmd: string, args: string[], env: Record<string, string | undefined>): { args: string[]; arena: string | null } {
  const clean: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete clean[k];
  const fakeNode = join(mkdtempSync(join(tmpdir(), 'me-bin-')), 'node');
  dirs.push(join(fakeNode, '..'));
  execFileSync('sh', ['-c', `printf '#!/bin/sh\\nprintf "%%s\\\\n" "$MALLOC_ARENA_MAX" "$@"\\n' > ${fakeNode} && chmod +x ${fakeNode}`]);
  const out = execFileSync(cmd, args, { encoding: 'utf8', env: { ...clean, MOBILENET_EDGE_NODE: fakeNode } }).split('\n').slice(0, -1);
  return { arena: out[0] || null, args: out.slice(1) };
}

describe('bin/mobilenet-edge', () => {
  it('sets MALLOC_ARENA_MAX=2 unless set, and runs dist/main.js with a 4 MB semi-space and the arguments untouched', () => {
    const r = run(BIN, ['run', '--config', 'a b.json'], { MALLOC_ARENA_MAX: undefined });
    expect(r.arena).toBe('2');
    expect(r.args).toEqual(['--max-semi-space-size=4', resolve('dist/main.js'), 'run', '--config', 'a b.json']);
    expect(run(BIN, [], { MALLOC_ARENA_MAX: '8' }).arena).toBe('8');
  });

  it('finds the package through a symlink, as npm links it into node_modules/.bin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'me-bin-link-'));
    dirs.push(dir);
    symlinkSync(BIN, join(dir, 'mobilenet-edge'));
    expect(run(join(dir, 'mobilenet-edge'), ['--help'], {}).args).toEqual(['--max-semi-space-size=4', resolve('dist/main.js'), '--help']);
  });
});
