import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CAMERA_JPEG, makeCameraJpegs } from '../../src/bench/camera-jpegs.js';

const SHARED = join(import.meta.dirname, '..', '..', '..', 'shared', 'images');

describe('bench camera JPEGs', () => {
  it('re-encodes the pictures as a camera sends them: 640x480, baseline, 4:2:0, one per picture; remove() deletes them', async () => {
    const made = await makeCameraJpegs(join(SHARED, '*.jpg'));
    try {
      const files = readdirSync(made.dir);
      expect(files).toHaveLength(readdirSync(SHARED).filter((f) => f.endsWith('.jpg')).length);
      expect(made.count).toBe(files.length);
      // Two of the shared photos are progressive: none of the frames may be.
      for (const f of files) {
        const m = await sharp(join(made.dir, f)).metadata();
        expect({ format: m.format, width: m.width, height: m.height, progressive: m.isProgressive, chroma: m.chromaSubsampling }).toEqual({
          format: 'jpeg',
          width: CAMERA_JPEG.width,
          height: CAMERA_JPEG.height,
          progressive: false,
          chroma: '4:2:0',
        });
      }
    } finally {
      await made.remove();
    }
    expect(existsSync(made.dir)).toBe(false);
  });

  it('names the pattern when it finds no picture', async () => {
    await expect(makeCameraJpegs(join(SHARED, '*.nothing'))).rejects.toThrow(/no image files found at .*\*\.nothing \(for the JPEG run\)/);
  });
});
