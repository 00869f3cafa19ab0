import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

/*
 * The per-pixel converters run for every camera frame: they must compile to optimised machine code and stay there on
 * real frames. A change that deoptimises them (a plain array, a polymorphic access, a try/catch in the loop) makes
 * them several times slower. Timing it cannot tell that from a loaded machine (here the same conversion took 1.4 to
 * 16 ms from one run to the next), so V8 is asked directly (--allow-natives-syntax), in a process of its own: under
 * vitest, imported tables are read through getters, which measures vitest, not us.
 */
const tmp = mkdtempSync(path.join(tmpdir(), 'camera-i420-optimised-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const src = (file: string): string => JSON.stringify(pathToFileURL(path.join(ROOT, 'src/pixels', file)).href);
const PROBE = `
import { i420Layout } from ${src('i420-layout.ts')};
import { I420Resizer } from ${src('i420-resize.ts')};
import { i420ToRgb } from ${src('i420-rgb.ts')};
const OPTIMISED = 16; // V8's OptimizationStatus::kOptimized bit
const optimised = (fn) => (eval('%GetOptimizationStatus(fn)') & OPTIMISED) !== 0;
const frames = ['none', 'pi4', 'pi5'].map((rule) => {
  const layout = i420Layout(640, 480, rule);
  const data = Buffer.alloc(layout.frameSize);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 255;
  return { layout, data, rgb: Buffer.alloc(640 * 480 * 3), resizer: new I420Resizer(layout, 300, 300, 'letterbox') };
});
const convert = I420Resizer.prototype.convert;
const runAll = () => frames.forEach((f) => (i420ToRgb(f.data, f.layout, f.rgb), f.resizer.convert(f.data, Buffer.alloc(300 * 300 * 3))));
// Optimised now (synchronously: no race with a background compile on a busy machine), then fed real frames.
eval('%PrepareFunctionForOptimization(i420ToRgb); %PrepareFunctionForOptimization(convert)');
runAll();
eval('%OptimizeFunctionOnNextCall(i420ToRgb); %OptimizeFunctionOnNextCall(convert)');
for (let i = 0; i < 5; i++) runAll();
const result = { i420ToRgb: optimised(i420ToRgb), resize: optimised(convert) };
// The control: the probe must see a deoptimisation, or its "optimised" means nothing on this V8.
i420ToRgb(frames[0].data, frames[0].layout, new Array(640 * 480 * 3).fill(0));
result.controlDeoptimised = !optimised(i420ToRgb);
console.log(JSON.stringify(result));
`;

describe('I420 converters', () => {
  it('run as optimised code on 640x480 frames of every stride rule, and stay optimised', () => {
    const probe = path.join(tmp, 'probe.mts');
    writeFileSync(probe, PROBE);
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', probe], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ i420ToRgb: true, resize: true, controlDeoptimised: true });
  });
});
