import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../src/camera/decode.js';
import { planResize } from '../../src/pixels/resize-plan.js';
import { rgbResized, suitsBilinear } from '../../src/pixels/rgb-resize.js';

const photo = path.resolve(process.cwd(), '../shared/images/cats_and_dogs.jpg');

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('rgbResized (one-pass bilinear RGB resize)', () => {
  it('matches libvips on a real photo within a few levels, for a step it takes', async () => {
    const img = await decodeImageFile(photo, undefined, { width: 128, height: 128 }); // 256x128, as a files camera decodes it
    expect(suitsBilinear(img.width, img.height, 128, 128, 'stretch')).toBe(true);
    const ours = rgbResized(img.data, img.width, img.height, 128, 128, 'stretch');
    const vips = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(128, 128, { fit: 'fill' }).raw().toBuffer();
    expect(ours.data.length).toBe(128 * 128 * 3);
    expect(meanAbsDiff(ours.data, vips)).toBeLessThan(6);
    expect(ours.geometry).toEqual(planResize(img.width, img.height, 128, 128, 'stretch').geometry);
  });

  it('letterboxes with black bars and maps boxes back like planResize; crop takes the centre', () => {
    const w = 40;
    const h = 20;
    const src = Buffer.alloc(w * h * 3, 200);
    const lb = rgbResized(src, w, h, 20, 20, 'letterbox');
    expect(lb.geometry).toEqual(planResize(w, h, 20, 20, 'letterbox').geometry);
    expect(lb.data.subarray(0, 20 * 3 * 5).every((v) => v === 0)).toBe(true); // top bar: 5 rows
    expect(lb.data[10 * 20 * 3 + 30]).toBe(200); // picture
    const crop = rgbResized(src, w, h, 16, 16, 'crop');
    expect(crop.geometry).toEqual(planResize(w, h, 16, 16, 'crop').geometry);
    expect(crop.data.every((v) => v === 200)).toBe(true);
  });

  it('leaves large steps to libvips, and names a short buffer', () => {
    expect(suitsBilinear(1920, 1080, 300, 300, 'stretch')).toBe(false);
    expect(suitsBilinear(640, 480, 300, 300, 'stretch')).toBe(true);
    expect(() => rgbResized(Buffer.alloc(10), 4, 4, 2, 2, 'stretch')).toThrow(/frame holds 10 bytes, expected 48 for 4x4 RGB/);
  });
});
