import sharp from 'sharp';
import { decodeImageFile } from '../../src/camera/decode.js';
import { image } from './paths.js';

/**
 * A scene with two different winged things the COCO SSD calls "bird": the chickadee of bird.bmp on top and the
 * dragonfly of dragonfly.bmp (scaled to the same width) below, stacked so the scene stays near the detector's square
 * input. (The shared sparrow photo was tried first: in any shared scene the SSD takes the sparrow for a person.)
 * Written as a PNG to `file`; returns its size and `split`, the normalised row where the dragonfly's half starts.
 */
export async function writeTwoBirds(file: string): Promise<{ width: number; height: number; split: number }> {
  const top = await decodeImageFile(image('bird.bmp'));
  const bottom = await decodeImageFile(image('dragonfly.bmp'));
  const width = top.width;
  const bottomHeight = Math.round((bottom.height * width) / bottom.width);
  const raw = (img: { width: number; height: number }) => ({ raw: { width: img.width, height: img.height, channels: 3 as const } });
  const topPng = await sharp(top.data, raw(top)).png().toBuffer();
  const bottomPng = await sharp(bottom.data, raw(bottom)).resize(width, bottomHeight).png().toBuffer();
  const height = top.height + bottomHeight;
  await sharp({ create: { width, height, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite([
      { input: topPng, left: 0, top: 0 },
      { input: bottomPng, left: 0, top: top.height },
    ])
    .png()
    .toFile(file);
  return { width, height, split: top.height / height };
}
