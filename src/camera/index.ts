export type { CameraState, Frame, FrameSink, FrameSource, SourceCounters } from './frame.js';
export { DEFAULT_MAX_PIXELS, decodeImage, decodeImageFile, ImageDecodeError, ImageTooLargeError, type DecodedImage } from './decode.js';
export { decodeBmp } from './bmp.js';
export { LatestFrameSlot, type SlotCounters } from './latest-frame-slot.js';
export { FilesSource, type FilesSourceOptions } from './files-source.js';
export { FfmpegSource, DEFAULT_FFMPEG_TIMING, type FfmpegSourceOptions, type FfmpegTiming } from './ffmpeg-source.js';
export { RpicamSource, type RpicamRuntime } from './rpicam-source.js';
export { SupervisedProcess, DEFAULT_SUPERVISOR_TIMING, type SupervisorTiming } from './supervised-process.js';
