import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createSource } from '../../src/camera/create-source.js';
import { rpicamArgs } from '../../src/camera/rpicam-args.js';
import { RpicamSource } from '../../src/camera/rpicam-source.js';
import { ConfigError, loadConfig, type ConfigProblem } from '../../src/config/index.js';
import { RPICAM_DEFAULTS } from '../helpers/rpicam-defaults.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpicam-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function load(source: Record<string, unknown>, checkFiles = false): ReturnType<typeof loadConfig> {
  const dir = path.join(tmp, `c${n++}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, 'config.json');
  const config = { cameras: { pi: { source: { type: 'rpicam', ...source } } }, detector: { model: { cpu: '/dev/null' } } };
  fs.writeFileSync(file, JSON.stringify(config));
  return loadConfig({ file, checkFiles, env: {} });
}

function problems(source: Record<string, unknown>): [string, string][] {
  try {
    load(source);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p: ConfigProblem) => [p.key, p.message]);
    throw err;
  }
  return [];
}

describe('rpicam config', () => {
  it('gives every new key a default that passes nothing extra to rpicam-vid', () => {
    const source = load({}).config.cameras.pi!.source;
    expect(source).toEqual({ type: 'rpicam', ...RPICAM_DEFAULTS });
  });

  it('accepts every tuning key and resolves the tuning file against the config directory', () => {
    const { config } = load({
      width: 1280,
      height: 720,
      rotation: 180,
      hflip: true,
      shutter: 10000,
      gain: 4,
      awb: 'indoor',
      denoise: 'cdn_hq',
      tuningFile: 'imx219_noir.json',
      stride: 'pi5',
      extraArgs: ['--ev', '0.5'],
    });
    const source = config.cameras.pi!.source;
    expect(source).toMatchObject({ rotation: 180, hflip: true, shutter: 10000, gain: 4, awb: 'indoor', denoise: 'cdn_hq', stride: 'pi5' });
    expect(source.type === 'rpicam' && source.tuningFile).toMatch(/\/c\d+\/imx219_noir\.json$/);
  });

  it('keeps configs valid that set a now-typed option through extraArgs (the key left unset)', () => {
    expect(load({ extraArgs: ['--denoise', 'cdn_fast'] }).config.cameras.pi!.source).toMatchObject({ denoise: null, extraArgs: ['--denoise', 'cdn_fast'] });
  });

  it('checks that the tuning file exists when files are checked', () => {
    expect(() => load({ tuningFile: 'missing.json' }, true)).toThrow(ConfigError);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['odd width', { width: 201 }, 'width', /^must be an even integer 16\.\.8192 \(got 201\)$/],
    ['rotation 90', { rotation: 90 }, 'rotation', /^must be one of 0, 180 \(got 90\)$/],
    ['rotation as text', { rotation: '180' }, 'rotation', /^must be one of 0, 180 \(got "180"\)$/],
    ['unknown awb', { awb: 'sunny' }, 'awb', /^must be one of "auto", .*"custom", or null \(got "sunny"\)$/],
    ['unknown denoise', { denoise: 'max' }, 'denoise', /^must be one of "auto", "off", "cdn_off", "cdn_fast", "cdn_hq", or null/],
    ['fractional shutter', { shutter: 1.5 }, 'shutter', /^must be an integer 1..1000000000, or null \(got 1\.5\)$/],
    ['zero gain', { gain: 0 }, 'gain', /^must be a number > 0, <= 1000, or null \(got 0\)$/],
    ['unknown stride', { stride: 'pi3' }, 'stride', /^must be one of "auto", "pi4", "pi5", "none" \(got "pi3"\)$/],
    ['an always-set option in extraArgs', { extraArgs: ['--width=320'] }, 'extraArgs', /^"--width=320" is set by source\.width: use that key instead/],
    ['an option in extraArgs whose key is set too', { shutter: 200, extraArgs: ['--shutter', '100'] }, 'extraArgs', /^"--shutter" contradicts source\.shutter \(200\): set only one of them$/],
    ['an output option in extraArgs', { extraArgs: ['--output', 'x.h264'] }, 'extraArgs', /^"--output" is managed by the source \(it always runs -t 0 -n --flush -o -/],
    ['a stopping option in extraArgs', { extraArgs: ['--frames', '10'] }, 'extraArgs', /^"--frames" is managed by the source/],
    ['extraArgs as one string', { extraArgs: '--ev 1' }, 'extraArgs', /^must be an array of strings/],
  ])('reports %s at its key', (_name, source, key, message) => {
    const found = problems(source);
    expect(found).toHaveLength(1);
    expect(found[0]![0]).toBe(`cameras.pi.source.${key}`);
    expect(found[0]![1]).toMatch(message);
  });

  it('builds a runnable rpicam source from the validated config (the registry no longer refuses it)', () => {
    const source = load({ extraArgs: ['--ev', '1'] }).config.cameras.pi!.source;
    const built = createSource('pi', source, pino({ level: 'silent' }));
    expect(built).toBeInstanceOf(RpicamSource);
    expect(built.camera).toBe('pi');
    if (source.type !== 'rpicam') throw new Error('not rpicam');
    expect(rpicamArgs(source)).toContain('--ev');
  });
});
