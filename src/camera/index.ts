export type { Frame, FrameSink, FrameSource, SourceCounters } from './frame.js';
export { decodeImage, decodeImageFile, ImageDecodeError, type DecodedImage } from './decode.js';
export { decodeBmp } from './bmp.js';
export { LatestFrameSlot, type SlotCounters } from './latest-frame-slot.js';
export { FilesSource, type FilesSourceOptions } from './files-source.js';
export { FfmpegSource, DEFAULT_FFMPEG_TIMING, type FfmpegSourceOptions, type FfmpegTiming } from './ffmpeg-source.js';
