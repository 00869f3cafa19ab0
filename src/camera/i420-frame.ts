import type { FrameBufferPool, Lease } from './frame-buffer-pool.js';
import type { Frame } from './frame.js';
import type { I420Layout } from '../pixels/i420-layout.js';
import { i420ToRgb } from '../pixels/i420-rgb.js';

type FrameFields = Omit<Frame, 'data' | 'i420' | 'release'>;

/**
 * A frame of the camera's I420 bytes, in `yuv` (a pooled buffer the frame now owns: RawFrameAssembler cut it there),
 * that makes RGB only if someone asks for `data`. The pipeline resizes from I420 in one pass, so a full-size RGB
 * conversion (~1.5 ms at 640x480) is skipped on every frame that is only detected on.
 */
export function i420Frame(fields: FrameFields, yuv: Lease, layout: I420Layout, rgbPool: FrameBufferPool): Frame {
  if (yuv.data.length < layout.frameSize) throw new Error(`I420 frame holds ${yuv.data.length} bytes, expected ${layout.frameSize}`);
  let rgb: Lease | undefined;
  return {
    ...fields,
    i420: { data: yuv.data, layout },
    get data(): Buffer {
      if (!rgb) {
        rgb = rgbPool.acquire();
        i420ToRgb(yuv.data, layout, rgb.data);
      }
      return rgb.data;
    },
    release(): void {
      yuv.release();
      rgb?.release();
    },
  };
}
