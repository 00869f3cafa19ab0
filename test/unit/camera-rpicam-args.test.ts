import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findRpicamBinary, rpicamArgs, validateRpicam, type RpicamSettings } from '../../src/camera/rpicam-args.js';
import { classifyRpicamExit } from '../../src/camera/rpicam-exit.js';
import type { RunEnd } from '../../src/camera/supervised-process.js';
import { RPICAM_DEFAULTS } from '../helpers/rpicam-defaults.js';

const DEFAULTS: RpicamSettings = RPICAM_DEFAULTS;

describe('rpicamArgs', () => {
  it('always asks for an endless, preview-less, flushed stream on stdout, and passes unset options not at all', () => {
    expect(rpicamArgs(DEFAULTS)).toEqual([
      ...['-t', '0', '-n', '--flush', '--camera', '0', '--width', '640', '--height', '480', '--framerate', '15', '--codec', 'yuv420'],
      ...['-o', '-'],
    ]);
  });

  it('maps every typed key to its rpicam-vid option, extra arguments verbatim before the output', () => {
    const args = rpicamArgs({
      ...DEFAULTS,
      camera: 1,
      width: 1280,
      height: 720,
      framerate: 7.5,
      codec: 'mjpeg',
      rotation: 180,
      hflip: true,
      vflip: true,
      shutter: 20000,
      gain: 2.5,
      awb: 'daylight',
      denoise: 'cdn_off',
      tuningFile: '/usr/share/libcamera/ipa/rpi/vc4/imx219_noir.json',
      extraArgs: ['--ev', '-0.5', '--annotate', '$(touch /tmp/pwned) `id`; x'],
    });
    expect(args).toEqual([
      ...['-t', '0', '-n', '--flush', '--camera', '1', '--width', '1280', '--height', '720', '--framerate', '7.5', '--codec', 'mjpeg'],
      ...['--rotation', '180', '--hflip', '--vflip', '--shutter', '20000', '--gain', '2.5', '--awb', 'daylight', '--denoise', 'cdn_off'],
      ...['--tuning-file', '/usr/share/libcamera/ipa/rpi/vc4/imx219_noir.json'],
      ...['--ev', '-0.5', '--annotate', '$(touch /tmp/pwned) `id`; x', '-o', '-'],
    ]);
  });
});

describe('validateRpicam', () => {
  it.each<[Partial<RpicamSettings>, RegExp]>([
    [{ width: 201 }, /source\.width must be an even positive integer, got 201/],
    [{ height: 0 }, /source\.height must be an even positive integer/],
    [{ framerate: 0 }, /source\.framerate must be > 0/],
    [{ camera: -1 }, /source\.camera must be an integer >= 0/],
    [{ rotation: 90 as 0 }, /source\.rotation must be 0 or 180, got 90/],
    [{ shutter: 0.5 }, /source\.shutter must be microseconds >= 1/],
    [{ gain: 0 }, /source\.gain must be > 0/],
    [{ extraArgs: ['--width', '320'] }, /source\.extraArgs "--width" is set by source\.width: use that key instead/],
    [{ extraArgs: ['-o', 'file.h264'] }, /"-o" is managed by the source/],
    [{ extraArgs: ['-t5000'] }, /"-t5000" is managed by the source/],
    [{ extraArgs: ['--timeout=5000'] }, /"--timeout=5000" is managed by the source/],
    [{ gain: 2, extraArgs: ['--analoggain', '2'] }, /"--analoggain" contradicts source\.gain \(2\): set only one of them/],
    [{ hflip: true, extraArgs: ['--hflip'] }, /"--hflip" contradicts source\.hflip \(true\)/],
  ])('refuses %o', (bad, message) => {
    expect(() => validateRpicam('pi', { ...DEFAULTS, ...bad })).toThrow(message);
  });

  it('accepts the defaults, ordinary extra options, and an option whose typed key is unset (configs from before the key)', () => {
    expect(() => validateRpicam('pi', { ...DEFAULTS, extraArgs: ['--ev', '-1', '--mode', '1640:1232', '--quality', '80'] })).not.toThrow();
    expect(() => validateRpicam('pi', { ...DEFAULTS, extraArgs: ['--denoise', 'cdn_fast', '--hflip'] })).not.toThrow();
  });
});

describe('findRpicamBinary', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'rpicam-bin-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const dir = (name: string, files: string[]): string => {
    const d = path.join(tmp, name);
    mkdirSync(d);
    for (const f of files) {
      writeFileSync(path.join(d, f), '#!/bin/sh\n');
      chmodSync(path.join(d, f), 0o755);
    }
    return d;
  };
  const modern = dir('modern', ['rpicam-vid', 'libcamera-vid']);
  const legacy = dir('legacy', ['libcamera-vid']);
  const empty = dir('empty', []);
  const notExecutable = dir('noexec', []);
  writeFileSync(path.join(notExecutable, 'rpicam-vid'), 'data');

  it('prefers rpicam-vid anywhere on PATH over libcamera-vid', () => {
    expect(findRpicamBinary(null, { PATH: [legacy, modern].join(':') })).toBe(path.join(modern, 'rpicam-vid'));
  });

  it('falls back to libcamera-vid on systems older than rpicam-apps 1.8 naming', () => {
    expect(findRpicamBinary(null, { PATH: [empty, notExecutable, legacy].join(':') })).toBe(path.join(legacy, 'libcamera-vid'));
  });

  it('names rpicam-vid when neither exists (the spawn then fails with ENOENT), and uses a configured path as is', () => {
    expect(findRpicamBinary(null, { PATH: empty })).toBe('rpicam-vid');
    expect(findRpicamBinary(null, {})).toBe('rpicam-vid');
    expect(findRpicamBinary('/opt/bin/my-rpicam', { PATH: modern })).toBe('/opt/bin/my-rpicam');
  });
});

describe('classifyRpicamExit', () => {
  const end = (stderr: string[], code: number | null = 255, signal: NodeJS.Signals | null = null): RunEnd => ({ code, signal, stderr, frames: 0 });

  it('recognises a busy camera from libcamera and rpicam-vid lines', () => {
    const v = classifyRpicamExit('rpicam-vid', end([
      '[0:03:19.472244161] [3274]  INFO Camera camera.cpp:990 Pipeline handler in use by another process',
      'ERROR: *** failed to acquire camera /base/axi/pcie@120000/rp1/i2c@88000/imx708@1a ***',
    ]));
    expect(v).toEqual({ reason: 'camera busy: another process (rpicam app, picamera2, a leftover run) holds it' });
  });

  it('flags a missing camera for attention but keeps retrying (a camera may appear after boot)', () => {
    expect(classifyRpicamExit('rpicam-vid', end(['ERROR: *** no cameras available ***']))).toMatchObject({
      reason: expect.stringMatching(/^no cameras available: check the ribbon cable/),
      attention: true,
    });
  });

  it('recognises buffer allocation failures (dma-heap / CMA)', () => {
    const v = classifyRpicamExit('rpicam-vid', end(['dmaHeap allocation failure for rpicam-apps0', 'ERROR: *** failed to allocate capture buffers for stream ***']));
    expect(v.reason).toMatch(/^camera buffers could not be allocated \(CMA \/ dma-heap memory exhausted\)/);
    expect(v.fatal).toBeUndefined();
  });

  it('gives up on arguments rpicam-vid rejects: restarting cannot fix them', () => {
    expect(classifyRpicamExit('rpicam-vid', end(["ERROR: *** unrecognised option '--bogus' ***"]))).toEqual({
      reason: "rpicam-vid rejected its arguments (check source.extraArgs): unrecognised option '--bogus'",
      fatal: true,
    });
  });

  it('names crashes by signal, unexpected ends, and other codes with the last ERROR line', () => {
    expect(classifyRpicamExit('libcamera-vid', end(['INFO x'], null, 'SIGSEGV')).reason).toBe('libcamera-vid crashed (killed by SIGSEGV): INFO x');
    expect(classifyRpicamExit('rpicam-vid', end([], 0)).reason).toBe('rpicam-vid ended although it was asked to run for ever (-t 0)');
    expect(
      classifyRpicamExit('rpicam-vid', end(['[0:00:05.0] [9] ERROR RPI pipeline_base.cpp:1201 Dequeue timer of 1000000.00us has expired!', 'bye'], 1)).reason,
    ).toBe('rpicam-vid exited with code 1: RPI pipeline_base.cpp:1201 Dequeue timer of 1000000.00us has expired!');
  });
});
