import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { listImageFiles } from '../camera/image-files.js';

/** What a camera's JPEG frame is: the synthetic camera's size, baseline (not progressive), 4:2:0, quality 85. */
export const CAMERA_JPEG = { width: 640, height: 480, quality: 85 } as const;

export interface CameraJpegs {
  /** The directory of the frames (a FilesSource path). */
  dir: string;
  count: number;
  /** Deletes the directory. */
  remove(): Promise<void>;
}

/**
 * The JPEG run's input by default: the given pictures re-encoded as a camera sends them (an MJPEG USB camera, the Pi
 * camera in MJPEG mode, an IP camera's snapshot), into a temporary directory. Photos from the web are often
 * progressive, and libjpeg decodes a progressive file at full cost even when asked for 1/4 of it, which is not what a
 * camera makes the daemon do. `--images` runs the files as they are.
 */
export async function makeCameraJpegs(pattern: string): Promise<CameraJpegs> {
  const files = await listImageFiles(pattern);
  if (files.length === 0) throw new Error(`no image files found at ${pattern} (for the JPEG run)`);
  const dir = await mkdtemp(join(tmpdir(), 'mobilenet-edge-bench-jpeg-'));
  try {
    for (const [i, file] of files.entries()) {
      await sharp(file)
        .rotate()
        .resize(CAMERA_JPEG.width, CAMERA_JPEG.height, { fit: 'cover' })
        .flatten()
        .jpeg({ quality: CAMERA_JPEG.quality, progressive: false, chromaSubsampling: '4:2:0', mozjpeg: false })
        .toFile(join(dir, `${String(i).padStart(3, '0')}-${basename(file).replace(/\.[^.]+$/, '')}.jpg`));
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot make camera JPEGs from ${pattern}: ${(err as Error).message.split('\n')[0]}`);
  }
  return { dir, count: files.length, remove: () => rm(dir, { recursive: true, force: true }) };
}
