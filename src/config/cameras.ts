import type { ConfigProblem } from './errors.js';
import { bool, int, isPlainObject, num, oneOf, orNull, requiredText, stringArray, text } from './formats.js';
import { filtersSchema, type FiltersConfig } from './schema.js';
import { setting, type SchemaTree, type Setting, type ValueOf } from './setting.js';
import { checkMessage, runSchema, type PathValue } from './validate.js';

/**
 * Camera entries live in an object map that convict cannot describe, so each entry gets its own convict
 * instance, chosen by its source.type: one schema per source type, sharing the common keys.
 */

export const SOURCE_TYPES = ['files', 'ffmpeg', 'rpicam'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export const CAMERA_NAME = /^[A-Za-z0-9_-]+$/;

const sourceType = setting({
  doc: 'Where frames come from: files (images on disk), ffmpeg (USB, RTSP, HTTP, files, lavfi) or rpicam (Raspberry Pi camera through rpicam-vid; accepted by the schema, not runnable yet).',
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
      format: num({ min: 0 }),
      default: 5,
    }),
  },
  filters: overridesOf(filtersSchema),
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
    fps: setting({ doc: 'Images read per second.', format: num({ min: 0, exclusiveMin: true }), default: 1 }),
    loop: setting({ doc: 'Start over after the last image; false stops the camera at the end.', format: bool, default: true }),
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
    fps: setting({ doc: 'Frame rate ffmpeg delivers (-r).', format: num({ min: 0, exclusiveMin: true }), default: 10 }),
    ffmpegPath: setting({ doc: 'The ffmpeg executable (a name on PATH or a path).', format: text({ nonEmpty: true }), default: 'ffmpeg' }),
  }),
  rpicam: cameraSchema('rpicam', {
    camera: setting({ doc: 'Camera index (rpicam-vid --camera); 0 is the first camera.', format: int({ min: 0 }), default: 0 }),
    // Measured: rpicam-vid pads I420 rows unless the width is a multiple of 128 (Pi 5 too).
    width: width(640, ' Multiples of 128 avoid row padding in the I420 stream.'),
    height: height(480),
    framerate: setting({ doc: 'Sensor frame rate (rpicam-vid --framerate).', format: num({ min: 0, exclusiveMin: true }), default: 15 }),
    codec: setting({
      doc: 'Stream format from rpicam-vid: yuv420 (raw I420 frames, no decoding) or mjpeg (JPEG images).',
      format: oneOf(['yuv420', 'mjpeg']),
      default: 'yuv420',
    }),
    extraArgs: setting({ doc: 'Extra rpicam-vid arguments, one array element per argument.', format: stringArray, default: [] }),
  }),
};

export type FilesSourceConfig = ValueOf<typeof cameraSchemas.files.source>;
export type FfmpegSourceConfig = ValueOf<typeof cameraSchemas.ffmpeg.source>;
export type RpicamSourceConfig = ValueOf<typeof cameraSchemas.rpicam.source>;
export type SourceConfig = FilesSourceConfig | FfmpegSourceConfig | RpicamSourceConfig;

type CameraEntry = ValueOf<typeof commonCameraSchema>;

/** A camera as the pipeline sees it: its name, its source, and the global filters merged with its own. */
export interface CameraConfig extends Omit<CameraEntry, 'source' | 'filters'> {
  name: string;
  source: SourceConfig;
  filters: FiltersConfig;
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
      out.problems.push({ key: at, message: 'camera names may only contain letters, digits, "_" and "-" (they become MQTT topic levels)' });
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
    out.cameras[name] = { name, ...cam, filters: mergeFilters(globalFilters, cam.filters) };
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
