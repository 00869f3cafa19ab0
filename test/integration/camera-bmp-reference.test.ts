import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBmp } from '../../src/camera/bmp.js';
import { decodeImage } from '../../src/camera/decode.js';

// ffmpeg's BMP reader is the reference: our decoder must give the same bytes.
const imagesDir = path.resolve(process.cwd(), '../shared/images');
const bmpFiles = readdirSync(imagesDir).filter((f) => f.endsWith('.bmp')).sort();
const tmp = mkdtempSync(path.join(tmpdir(), 'camera-bmp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function ffmpegRgb(file: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 64 << 20 });
}

function maxDifference(a: Buffer, b: Buffer): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('BMP decoder against ffmpeg', () => {
  it('finds the sample BMPs', () => {
    expect(bmpFiles.length).toBeGreaterThanOrEqual(5);
  });

  it.each(bmpFiles)('%s matches ffmpeg byte for byte', async (name) => {
    const file = path.join(imagesDir, name);
    const bytes = readFileSync(file);
    const img = decodeBmp(bytes, file);
    const reference = ffmpegRgb(file);
    expect(img.data.length).toBe(img.width * img.height * 3);
    expect(img.data.length).toBe(reference.length);
    expect(maxDifference(img.data, reference)).toBe(0);
    expect((await decodeImage(bytes, file)).data.equals(img.data)).toBe(true);
  });

  // Synthetic files in the layouts the samples do not cover, checked by the same reference.
  it.each([
    ['8-bit palette, odd width', 8, 0, 37, 21],
    ['32-bit BI_RGB, top-down', 32, 0, 19, -9],
    ['24-bit, top-down, odd width', 24, 0, 13, -7],
  ] as const)('%s matches ffmpeg', (name, bpp, compression, width, rawHeight) => {
    const height = Math.abs(rawHeight);
    const stride = Math.floor((width * bpp + 31) / 32) * 4;
    const paletteSize = bpp === 8 ? 256 * 4 : 0;
    const dataOffset = 54 + paletteSize;
    const buf = Buffer.alloc(dataOffset + stride * height);
    buf.write('BM', 0, 'latin1');
    buf.writeUInt32LE(buf.length, 2);
    buf.writeUInt32LE(dataOffset, 10);
    buf.writeUInt32LE(40, 14);
    buf.writeInt32LE(width, 18);
    buf.writeInt32LE(rawHeight, 22);
    buf.writeUInt16LE(1, 26);
    buf.writeUInt16LE(bpp, 28);
    buf.writeUInt32LE(compression, 30);
    for (let i = 0; i < paletteSize; i++) buf[54 + i] = (i * 29) & 255;
    for (let i = dataOffset; i < buf.length; i++) buf[i] = (i * 131 + (i >> 5)) & 255;
    if (bpp === 32) for (let i = dataOffset + 3; i < buf.length; i += 4) buf[i] = 255; // opaque: ffmpeg flattens nothing
    const file = path.join(tmp, `${name.replace(/\W+/g, '-')}.bmp`);
    writeFileSync(file, buf);
    const img = decodeBmp(buf, file);
    expect([img.width, img.height]).toEqual([width, height]);
    expect(maxDifference(img.data, ffmpegRgb(file))).toBeLessThanOrEqual(1);
  });
});
