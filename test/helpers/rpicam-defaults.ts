import type { RpicamSettings } from '../../src/camera/rpicam-args.js';

/** What the config schema gives an rpicam source with no options: written out once, so tests can check it. */
export const RPICAM_DEFAULTS: RpicamSettings = {
  camera: 0,
  width: 640,
  height: 480,
  framerate: 15,
  codec: 'yuv420',
  rotation: 0,
  hflip: false,
  vflip: false,
  shutter: null,
  gain: null,
  awb: null,
  denoise: null,
  tuningFile: null,
  stride: 'auto',
  stallSeconds: 10,
  rpicamPath: null,
  extraArgs: [],
};
