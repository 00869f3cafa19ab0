import type { CameraConfig } from '../config/index.js';
import type { Logger } from '../system/logger.js';
import type { DecodeSize } from './decode.js';
import { FfmpegSource } from './ffmpeg-source.js';
import { FilesSource } from './files-source.js';
import type { FrameSource } from './frame.js';
import { RpicamSource } from './rpicam-source.js';

/** What the daemon knows that a source may use: the smallest picture its readers need (image files decode to it). */
export interface SourceHints {
  decodeAtLeast?: DecodeSize;
}

/** The source registry: one implementation per `cameras.<name>.source.type`. */
export function createSource(camera: string, source: CameraConfig['source'], log: Logger, hints: SourceHints = {}): FrameSource {
  switch (source.type) {
    case 'files':
      return new FilesSource(camera, { ...source, ...(hints.decodeAtLeast ? { decodeAtLeast: hints.decodeAtLeast } : {}) }, log);
    case 'ffmpeg':
      return new FfmpegSource(camera, source, log);
    case 'rpicam':
      return new RpicamSource(camera, source, log);
  }
}
