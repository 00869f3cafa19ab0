import { describe, expect, it } from 'vitest';
import { siblingEntry } from '../../src/system/paths.js';

describe('siblingEntry', () => {
  it('runs the compiled .js beside a compiled module, and the .ts source under tsx beside a source module', () => {
    expect(siblingEntry('file:///opt/me/dist/inference/host/host-process.js', 'host-main')).toEqual({ path: '/opt/me/dist/inference/host/host-main.js', execArgv: [] });
    expect(siblingEntry('file:///work/src/bench/detections-probe.ts', 'probe-child')).toEqual({ path: '/work/src/bench/probe-child.ts', execArgv: ['--import', 'tsx'] });
  });
});
