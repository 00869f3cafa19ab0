import sharp from 'sharp';
import type { Frame } from '../camera/frame.js';
import { i420CropToRgb, i420ToRgbResized, planCrop, type CropRect } from '../pixels/i420-resize.js';
import { planResize, type Geometry, type ResizeMode } from '../pixels/resize-plan.js';
import { rgbResized, suitsBilinear } from '../pixels/rgb-resize.js';
import type { Box } from './types.js';


export interface PreparedInput {
  /** Packed RGB at the model's input size. */
  data: Buffer;
  geometry: Geometry;
}

export interface RgbImage {
  width: number;
  height: number;
  data: Buffer;
}

// libvips would otherwise keep decoded images around; frames are never seen twice.
sharp.cache(false);
// One libvips worker per operation: frames are small, and every extra thread brings its own malloc arena (RSS).
sharp.concurrency(1);

/**
 * Resizes a packed RGB image to the model's input size. `stretch` ignores the aspect ratio, `letterbox` keeps all of
 * the picture with black bars, `crop` fills the input and cuts the edges. The resize runs in libvips' thread pool,
 * off the event loop.
 */
export async function prepareInput(image: RgbImage, width: number, height: number, mode: ResizeMode): Promise<PreparedInput> {
  const { width: w, height: h } = image;
  if (image.data.length !== w * h * 3) {
    throw new Error(`frame holds ${image.data.length} bytes, expected ${w * h * 3} for ${w}x${h} RGB`);
  }
  const raw = { raw: { width: w, height: h, channels: 3 as const } };
  const { src, dst, geometry } = planResize(w, h, width, height, mode);
  if (src.w === width && src.h === height && dst.w === width) {
    // Same size: a copy, because the frame's buffer goes back to its source's pool once the frame is processed.
    return { data: Buffer.from(image.data), geometry };
  }
  // A small step (an image file decoded near the model's size): one JS pass, far cheaper than a libvips pipeline.
  if (suitsBilinear(w, h, width, height, mode)) return rgbResized(image.data, w, h, width, height, mode);
  let pipeline = sharp(image.data, raw);
  if (src.w !== w || src.h !== h) pipeline = pipeline.extract({ left: src.x, top: src.y, width: src.w, height: src.h });
  pipeline = pipeline.resize(dst.w, dst.h, { fit: 'fill' });
  if (dst.w !== width || dst.h !== height) {
    pipeline = pipeline.extend({ top: dst.y, bottom: height - dst.h - dst.y, left: dst.x, right: width - dst.w - dst.x, background: { r: 0, g: 0, b: 0 } });
  }
  return { data: await pipeline.raw().toBuffer(), geometry };
}

/**
 * A frame at the model's input size: from its I420 planes in one JS pass (~1.3 ms at 640x480 -> 300x300) when the
 * camera gave I420 (into `out` when given: `pooled` says it was used), else from RGB with libvips off the event loop.
 */
export async function prepareFrame(frame: Frame, width: number, height: number, mode: ResizeMode, out?: Buffer): Promise<PreparedInput & { pooled: boolean }> {
  if (frame.i420) return { ...i420ToRgbResized(frame.i420.data, frame.i420.layout, width, height, mode, out), pooled: out !== undefined };
  return { ...(await prepareInput(frame, width, height, mode)), pooled: false };
}

/**
 * A rectangle of the full-resolution frame (a detection region) at the model's input size, stretched (regions have
 * the model's aspect ratio, so nothing is distorted): in one JS pass from I420, else cut and resized by libvips.
 */
export async function prepareCrop(frame: Frame, rect: CropRect, width: number, height: number): Promise<PreparedInput> {
  if (frame.i420) return i420CropToRgb(frame.i420.data, frame.i420.layout, rect, width, height);
  const { geometry } = planCrop(frame.width, frame.height, rect, width, height);
  if (frame.data.length !== frame.width * frame.height * 3) {
    throw new Error(`frame holds ${frame.data.length} bytes, expected ${frame.width * frame.height * 3} for ${frame.width}x${frame.height} RGB`);
  }
  const data = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .extract({ left: rect.x, top: rect.y, width: rect.w, height: rect.h })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { data, geometry };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Maps a box from model-input coordinates to frame coordinates, clipped to the frame. */
export function toFrameBox(box: Box, g: Geometry): Box {
  return {
    xmin: clamp01(g.ax * box.xmin + g.bx),
    ymin: clamp01(g.ay * box.ymin + g.by),
    xmax: clamp01(g.ax * box.xmax + g.bx),
    ymax: clamp01(g.ay * box.ymax + g.by),
  };
}
