import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeImageFile, ImageDecodeError } from '../../src/camera/decode.js';

const imagesDir = path.resolve(process.cwd(), '../shared/images');
const tmp = mkdtempSync(path.join(tmpdir(), 'camera-decode-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function decodeError(file: string): Promise<ImageDecodeError> {
  const err = await decodeImageFile(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageDecodeError);
  const e = err as ImageDecodeError;
  expect(e.origin).toBe(file);
  expect(e.message.startsWith(`cannot decode ${file}: `)).toBe(true);
  expect(e.message).not.toContain('\n'); // one line, no libvips dump or stack
  return e;
}

describe('decodeImage', () => {
  it.each([
    ['burger.jpg', 480, 325],
    ['cats_and_dogs.jpg', 1200, 600],
    ['multi_objects.jpg', 902, 358],
    ['sparrow.png', 1280, 851], // RGBA: alpha must be gone
    ['grace_hopper.bmp', 512, 600],
  ])('%s -> %ix%i RGB', async (name, width, height) => {
    const img = await decodeImageFile(path.join(imagesDir, name));
    expect([img.width, img.height]).toEqual([width, height]);
    expect(img.data.length).toBe(width * height * 3);
  });

  it('gives the same pixels as sharp for a JPEG (no colour or channel-order mix-up)', async () => {
    const bytes = readFileSync(path.join(imagesDir, 'burger.jpg'));
    const img = await decodeImage(bytes, 'burger');
    const reference = await sharp(bytes).raw().toBuffer();
    expect(img.data.equals(reference)).toBe(true);
  });

  it('applies the EXIF orientation', async () => {
    const rotated = await sharp(readFileSync(path.join(imagesDir, 'burger.jpg'))).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const img = await decodeImage(rotated, 'rotated.jpg');
    expect([img.width, img.height]).toEqual([325, 480]);
  });

  it('flattens transparency and expands greyscale to 3 channels', async () => {
    const rgba = Buffer.from([200, 100, 50, 255, 200, 100, 50, 0]); // opaque, then fully transparent
    const png = await sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    expect([...(await decodeImage(png, 'a.png')).data]).toEqual([200, 100, 50, 0, 0, 0]);
    const grey = await sharp(Buffer.from([10, 250]), { raw: { width: 2, height: 1, channels: 1 } }).png().toBuffer();
    expect([...(await decodeImage(grey, 'g.png')).data]).toEqual([10, 10, 10, 250, 250, 250]);
  });

  it('a truncated JPEG is an error naming the file, not a half grey picture', async () => {
    const bytes = readFileSync(path.join(imagesDir, 'burger.jpg'));
    const file = path.join(tmp, 'half-burger.jpg');
    writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
    const err = await decodeError(file);
    expect(err.reason).toMatch(/premature end|truncated/i);
  });

  it('a truncated PNG is an error', async () => {
    const bytes = readFileSync(path.join(imagesDir, 'sparrow.png'));
    const file = path.join(tmp, 'half-sparrow.png');
    writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
    await decodeError(file);
  });

  it('a text file is an error', async () => {
    const file = path.join(tmp, 'notes.jpg');
    writeFileSync(file, 'this is not a picture\n');
    expect((await decodeError(file)).reason).toMatch(/not a supported image format/);
  });

  it('an empty file and a missing file are errors', async () => {
    const empty = path.join(tmp, 'empty.png');
    writeFileSync(empty, '');
    expect((await decodeError(empty)).reason).toBe('empty file');
    expect((await decodeError(path.join(tmp, 'nope.jpg'))).reason).toMatch(/^cannot read: ENOENT/);
  });

  it('a truncated BMP goes through the BMP reader and fails the same way', async () => {
    const bytes = readFileSync(path.join(imagesDir, 'cat.bmp'));
    const file = path.join(tmp, 'half-cat.bmp');
    writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
    expect((await decodeError(file)).reason).toMatch(/truncated BMP/);
  });
});
