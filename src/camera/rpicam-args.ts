import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { RpicamSourceConfig } from '../config/index.js';
import { rpicamArgConflict, rpicamArgProblem } from '../config/formats.js';

/** The rpicam keys of a camera's config, without `type`. */
export type RpicamSettings = Omit<RpicamSourceConfig, 'type'>;

/** Checked again here, not only by the schema: sources are also built by code (tests, tools) without the config. */
export function validateRpicam(camera: string, s: RpicamSettings): void {
  const fail = (key: string, what: string): never => {
    throw new Error(`camera ${camera}: source.${key} ${what}`);
  };
  for (const key of ['width', 'height'] as const) {
    if (!Number.isInteger(s[key]) || s[key] < 2 || s[key] % 2 !== 0) fail(key, `must be an even positive integer, got ${s[key]}`);
  }
  if (!Number.isInteger(s.camera) || s.camera < 0) fail('camera', `must be an integer >= 0, got ${s.camera}`);
  if (!(s.framerate > 0) || !Number.isFinite(s.framerate)) fail('framerate', `must be > 0, got ${s.framerate}`);
  if (s.rotation !== 0 && s.rotation !== 180) fail('rotation', `must be 0 or 180, got ${s.rotation}`);
  if (s.shutter !== null && (!Number.isInteger(s.shutter) || s.shutter < 1)) fail('shutter', `must be microseconds >= 1, got ${s.shutter}`);
  if (s.gain !== null && !(s.gain > 0 && Number.isFinite(s.gain))) fail('gain', `must be > 0, got ${s.gain}`);
  if (!(s.stallSeconds > 0)) fail('stallSeconds', `must be > 0, got ${s.stallSeconds}`);
  for (const arg of s.extraArgs) {
    const problem = rpicamArgProblem(arg);
    if (problem) fail('extraArgs', problem);
  }
  const conflict = rpicamArgConflict(s.extraArgs, s);
  if (conflict) fail('extraArgs', conflict);
}

/**
 * The rpicam-vid command line: an endless (-t 0), preview-less (-n) stream of whole frames flushed (--flush) to
 * stdout (-o -). Options are passed only when set, so rpicam-vid keeps its own defaults for the rest.
 */
export function rpicamArgs(s: RpicamSettings): string[] {
  const args = ['-t', '0', '-n', '--flush', '--camera', String(s.camera)];
  args.push('--width', String(s.width), '--height', String(s.height), '--framerate', String(s.framerate), '--codec', s.codec);
  if (s.rotation === 180) args.push('--rotation', '180');
  if (s.hflip) args.push('--hflip');
  if (s.vflip) args.push('--vflip');
  // Plain microseconds: newer rpicam-vid also takes units ("10ms"), older libcamera-vid only a number.
  if (s.shutter !== null) args.push('--shutter', String(s.shutter));
  if (s.gain !== null) args.push('--gain', String(s.gain));
  if (s.awb !== null) args.push('--awb', s.awb);
  if (s.denoise !== null) args.push('--denoise', s.denoise);
  if (s.tuningFile !== null) args.push('--tuning-file', s.tuningFile);
  return [...args, ...s.extraArgs, '-o', '-'];
}

/** rpicam-apps 1.8 removed the libcamera-* names; systems older than 2023 only have those. */
export const RPICAM_BINARIES = ['rpicam-vid', 'libcamera-vid'] as const;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The binary to run: the configured one, else the first of rpicam-vid / libcamera-vid found on the child's PATH.
 * When neither exists, 'rpicam-vid', so the spawn fails with ENOENT and the message names the modern package.
 */
export function findRpicamBinary(configured: string | null, env: NodeJS.ProcessEnv): string {
  if (configured !== null) return configured;
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of RPICAM_BINARIES) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return RPICAM_BINARIES[0];
}
