import type { ConfigProblem } from './errors.js';
import { bool, evenInt, int, isPlainObject, isReservedName, num, oneOf, orNull, rate, polygonList, requiredText, rpicamArgConflict, rpicamExtraArgs, stringArray, text, zoneMap, type Polygon } from './formats.js';
import { filtersSchema, type FiltersConfig } from './schema.js';
import { setting, type SchemaTree, type Setting, type ValueOf } from './setting.js';
import { checkMessage, runSchema, type PathValue } from './validate.js';

/**
 * Camera entries live in an object map that convict cannot describe, so each entry gets its own convict
 * instance, chosen by its source.type: one schema per source type, sharing the common keys.
 */

export const SOURCE_TYPES = ['files', 'ffmpeg', 'rpicam'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

/** rpicam-vid --awb and --denoise values (rpicam-apps options.cpp). */
export const RPICAM_AWB_MODES = ['auto', 'incandescent', 'tungsten', 'fluorescent', 'indoor', 'daylight', 'cloudy', 'custom'] as const;
export const RPICAM_DENOISE_MODES = ['auto', 'off', 'cdn_off', 'cdn_fast', 'cdn_hq'] as const;
export const RPICAM_STRIDES = ['auto', 'pi4', 'pi5', 'none'] as const;

export const CAMERA_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const sourceType = setting({
  doc: 'Where frames come from: files (images on disk), ffmpeg (USB, RTSP, HTTP, files, lavfi) or rpicam (Raspberry Pi camera through rpicam-vid).',
  format: oneOf(SOURCE_TYPES),
  default: null,
});

type Overrides<S> = { [K in keyof S]: Setting<ValueOf<S[K]> | null> };

/** Each global filter key again, nullable: null inherits the global value. */
function overridesOf<S extends Record<string, Setting<unknown>>>(schema: S): Overrides<S> {
  const entries = Object.entries(schema).map(([key, s]) => [
    key,
    setting({
      doc: `Overrides filters.${key} for this camera (null = the global value)${key === 'perLabel' ? '; merged into the global map, camera entries win' : ''}.`,
      format: orNull(s.format),
      default: null,
    }),
  ]);
  return Object.fromEntries(entries) as Overrides<S>;
}

/** Keys every camera has, whatever its source; rendered once in the reference. */
export const commonCameraSchema = {
  enabled: setting({ doc: 'A disabled camera is validated but not started.', format: bool, default: true }),
  source: { type: sourceType },
  detect: {
    fps: setting({
      doc: 'Maximum inference rate for this camera (frames per second); 0 runs as fast as the detector goes. Frames in between are dropped and counted.',
      format: rate({ max: 1000, zero: 'as fast as the detector goes' }),
      default: 5,
    }),
  },
  filters: overridesOf(filtersSchema),
  classify: setting({
    doc: 'Run the second-stage classifiers (the top-level `classifiers`) on this camera\'s detections; false: detection only here.',
    format: bool,
    default: true,
  }),
  zones: setting({
    doc: 'Named zones: polygons of [x, y] points normalised to the frame (0..1, origin top left). An object is in a zone when the bottom centre of its box is; zone names appear in events, with per-zone counts.',
    format: zoneMap,
    default: {} as Record<string, Polygon>,
  }),
  masks: setting({
    doc: 'Areas to ignore: polygons like zones; a detection whose box bottom centre falls in a mask is dropped before tracking (still in the raw detections topic).',
    format: polygonList,
    default: [] as Polygon[],
  }),
  motion: {
    enabled: setting({
      doc: 'Motion-gated detection: the detector runs only where something moves (square regions cut from the full-resolution frame, around motion and tracked objects), and not at all on a still scene. null: on for ffmpeg and rpicam cameras, off for files cameras. false: every frame is detected whole.',
      format: orNull(bool),
      default: null as boolean | null,
    }),
    threshold: setting({
      doc: 'How much a pixel must differ from the background to count as motion, in grey levels (0..255) of a 320-pixel-wide grey copy of the frame. Raise it for a noisy (night, IR) camera.',
      format: int({ min: 1, max: 255 }),
      default: 25,
    }),
    minArea: setting({
      doc: 'Smallest motion that counts, as a fraction of the frame area (0.001: 0.1%, about 45x45 pixels at 1920x1080). Smaller changes (noise, insects) are ignored.',
      format: num({ min: 0, max: 1 }),
      default: 0.001,
    }),
    masks: setting({
      doc: 'Areas where motion is ignored (trees in the wind, a busy road, a timestamp overlay): polygons like zones. Objects there are still detected when motion elsewhere or the idle detection covers them.',
      format: polygonList,
      default: [] as Polygon[],
    }),
    idleDetectSec: setting({
      doc: 'With no motion and nothing tracked, the whole frame is still detected this often (seconds), to find what motion cannot (something already there at start); 0: only the first frame.',
      format: num({ min: 0, max: 86_400 }),
      default: 10,
    }),
    maxRegions: setting({
      doc: 'Regions detected per frame at most, each one inference: more motion areas are merged into fewer, larger regions.',
      format: int({ min: 1, max: 16 }),
      default: 4,
    }),
  },
};

function cameraSchema<T extends SourceType, K extends SchemaTree>(type: T, keys: K) {
  const typeSetting = setting({ doc: sourceType.doc, format: oneOf([type]), default: null });
  return { ...commonCameraSchema, source: { type: typeSetting, ...keys } };
}

const width = (def: number, note = '') =>
  setting({ doc: `Frame width in pixels.${note}`, format: int({ min: 16, max: 8192 }), default: def });
const height = (def: number) => setting({ doc: 'Frame height in pixels.', format: int({ min: 16, max: 8192 }), default: def });

export const cameraSchemas = {
  files: cameraSchema('files', {
    path: setting({
      doc: 'An image file, a directory of images, or a glob such as `/data/*.jpg`.',
      format: requiredText('a file, directory or glob'),
      default: null,
      path: 'pattern',
    }),
    fps: setting({
      doc: 'Images read per second; 0: on demand, the next image each time the detector is ready for one (every image inferred, none dropped: for a folder of pictures).',
      format: rate({ max: 1000, zero: 'on demand' }),
      default: 1,
    }),
    loop: setting({ doc: 'Start over after the last image; false stops the camera at the end.', format: bool, default: true }),
    repeat: setting({
      doc: 'Frames each image is shown for, in a row: a still scene, so that object tracking sees an object stay (events, counts, snapshots), as with a real camera. 1 shows each image once.',
      format: int({ min: 1, max: 10_000 }),
      default: 1,
    }),
    maxPixels: setting({
      doc: 'Images with more pixels are refused from their header, never decoded (an image bomb: a 16000x16000 PNG of under 1 MB would take GBs); counted as skipped, with one warning each. The default takes a 50 MP photo; decoding one takes about 150 MB.',
      format: int({ min: 1_000_000, max: 250_000_000 }),
      default: 50_000_000,
    }),
  }),
  ffmpeg: cameraSchema('ffmpeg', {
    input: setting({
      doc: 'ffmpeg input (-i): a device (/dev/video0), a URL (rtsp://...), a file, or a lavfi spec (with inputOptions ["-f", "lavfi"]).',
      format: requiredText('a device, URL, file or lavfi spec'),
      default: null,
    }),
    inputOptions: setting({
      doc: 'Extra ffmpeg arguments placed before -i, one array element per argument, e.g. ["-rtsp_transport", "tcp"].',
      format: stringArray,
      default: [],
    }),
    width: width(640),
    height: height(480),
    fps: setting({ doc: 'Frame rate ffmpeg delivers (-r).', format: rate({ max: 1000 }), default: 10 }),
    ffmpegPath: setting({ doc: 'The ffmpeg executable (a name on PATH or a path).', format: text({ nonEmpty: true }), default: 'ffmpeg' }),
  }),
  rpicam: cameraSchema('rpicam', {
    camera: setting({ doc: 'Camera index (rpicam-vid --camera); 0 is the first camera.', format: int({ min: 0, max: 63 }), default: 0 }),
    // Measured: rpicam-vid pads I420 rows unless the width is a multiple of 128 (Pi 5 too).
    width: setting({
      doc: 'Frame width in pixels. Multiples of 128 avoid row padding in the I420 stream.',
      format: evenInt({ min: 16, max: 8192 }),
      default: 640,
    }),
    height: setting({ doc: 'Frame height in pixels.', format: evenInt({ min: 16, max: 8192 }), default: 480 }),
    framerate: setting({ doc: 'Sensor frame rate (rpicam-vid --framerate).', format: rate({ max: 1000 }), default: 15 }),
    codec: setting({
      doc: 'Stream format from rpicam-vid: yuv420 (raw I420 frames, no decoding) or mjpeg (JPEG images).',
      format: oneOf(['yuv420', 'mjpeg']),
      default: 'yuv420',
    }),
    rotation: setting({ doc: 'Image rotation in degrees (rpicam-vid --rotation; the sensor can only do 0 or 180).', format: oneOf([0, 180]), default: 0 }),
    hflip: setting({ doc: 'Mirror the image left to right (rpicam-vid --hflip).', format: bool, default: false }),
    vflip: setting({ doc: 'Flip the image upside down (rpicam-vid --vflip).', format: bool, default: false }),
    shutter: setting({
      doc: 'Fixed exposure time in microseconds (rpicam-vid --shutter); null lets the auto exposure choose.',
      format: orNull(int({ min: 1, max: 1_000_000_000 })),
      default: null,
    }),
    gain: setting({
      doc: 'Fixed analogue gain, 1.0 = none (rpicam-vid --gain); null lets the auto exposure choose.',
      format: orNull(num({ min: 0, exclusiveMin: true, max: 1000 })),
      default: null,
    }),
    awb: setting({
      doc: "White balance mode (rpicam-vid --awb); null keeps rpicam-vid's default (auto).",
      format: orNull(oneOf(RPICAM_AWB_MODES)),
      default: null,
    }),
    denoise: setting({
      doc: "Denoise mode (rpicam-vid --denoise); null keeps rpicam-vid's default (auto).",
      format: orNull(oneOf(RPICAM_DENOISE_MODES)),
      default: null,
    }),
    tuningFile: setting({
      doc: "Camera tuning file (rpicam-vid --tuning-file), e.g. for a NoIR module; null keeps libcamera's choice.",
      format: orNull(text({ nonEmpty: true })),
      default: null,
      path: 'file',
    }),
    stride: setting({
      doc: 'Row padding of the I420 stream: auto (from /proc/device-tree/model), pi4 (Pi 0-4), pi5, or none. Only yuv420 uses it.',
      format: oneOf(RPICAM_STRIDES),
      default: 'auto',
    }),
    stallSeconds: setting({
      doc: 'No frame for this long (at least 3 frame intervals): rpicam-vid is hung; it is stopped (SIGINT, then SIGKILL) and restarted.',
      format: num({ min: 0.1, max: 3600 }),
      default: 10,
    }),
    rpicamPath: setting({
      doc: 'The rpicam-vid executable (a name on PATH or a path); null finds rpicam-vid, or libcamera-vid on older systems, on PATH.',
      format: orNull(text({ nonEmpty: true })),
      default: null,
    }),
    extraArgs: setting({
      doc: 'Extra rpicam-vid arguments, one array element per argument, for options without a key here (e.g. ["--ev", "0.5"]).',
      format: rpicamExtraArgs,
      default: [],
    }),
  }),
};

export type FilesSourceConfig = ValueOf<typeof cameraSchemas.files.source>;
export type FfmpegSourceConfig = ValueOf<typeof cameraSchemas.ffmpeg.source>;
export type RpicamSourceConfig = ValueOf<typeof cameraSchemas.rpicam.source>;
export type SourceConfig = FilesSourceConfig | FfmpegSourceConfig | RpicamSourceConfig;

type CameraEntry = ValueOf<typeof commonCameraSchema>;

/** cameras.<name>.motion with `enabled` resolved from the source type. */
export type MotionConfig = Omit<CameraEntry['motion'], 'enabled'> & { enabled: boolean };

/** A camera as the pipeline sees it: its name, its source, the global filters merged with its own, motion resolved. */
export interface CameraConfig extends Omit<CameraEntry, 'source' | 'filters' | 'motion'> {
  name: string;
  source: SourceConfig;
  filters: FiltersConfig;
  motion: MotionConfig;
}

export interface CamerasResult {
  cameras: Record<string, CameraConfig>;
  problems: ConfigProblem[];
  paths: PathValue[];
}

/** Validates every camera entry (all of them, so every problem is reported) and merges the filters. */
export function resolveCameras(map: Record<string, unknown>, globalFilters: FiltersConfig, baseDir: string): CamerasResult {
  const out: CamerasResult = { cameras: {}, problems: [], paths: [] };
  for (const [name, entry] of Object.entries(map)) {
    const at = `cameras.${name}`;
    if (!CAMERA_NAME.test(name)) {
      out.problems.push({ key: at, message: 'camera names may only contain letters, digits, "_" and "-", at most 64 (they become MQTT topic levels)' });
    } else if (isReservedName(name)) {
      out.problems.push({ key: at, message: `"${name}" is reserved in JavaScript objects: choose another camera name` });
    }
    if (!isPlainObject(entry)) {
      out.problems.push({ key: at, message: `must be an object with a "source" (got ${JSON.stringify(entry)})` });
      continue;
    }
    if (!isPlainObject(entry.source)) {
      out.problems.push({ key: `${at}.source`, message: `must be an object with a "type": one of ${SOURCE_TYPES.join(', ')}` });
      continue;
    }
    const type = entry.source.type;
    if (!SOURCE_TYPES.includes(type as SourceType)) {
      out.problems.push({ key: `${at}.source.type`, message: checkMessage(sourceType, type) });
      continue;
    }
    const run = runSchema(cameraSchemas[type as SourceType] as SchemaTree, entry, { env: {}, prefix: `${at}.`, baseDir });
    out.problems.push(...run.problems);
    out.paths.push(...run.paths);
    const cam = run.value as unknown as CameraEntry & { source: SourceConfig };
    if (cam.source.type === 'rpicam' && run.problems.length === 0) {
      // A rule across two keys, which a per-key convict format cannot see.
      const conflict = rpicamArgConflict(cam.source.extraArgs, cam.source);
      if (conflict) out.problems.push({ key: `${at}.source.extraArgs`, message: conflict });
    }
    // Motion pays off on a live camera; a files camera shows unrelated pictures, where everything "moves".
    const motion = { ...cam.motion, enabled: cam.motion.enabled ?? cam.source.type !== 'files' };
    out.cameras[name] = { name, ...cam, filters: mergeFilters(globalFilters, cam.filters), motion };
  }
  return out;
}

function mergeFilters(global: FiltersConfig, own: CameraEntry['filters']): FiltersConfig {
  return {
    minScore: own.minScore ?? global.minScore,
    labels: own.labels ?? global.labels,
    perLabel: { ...global.perLabel, ...own.perLabel },
    maxResults: own.maxResults ?? global.maxResults,
  };
}
