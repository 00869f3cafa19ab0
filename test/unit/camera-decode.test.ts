import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PIXELS, decodeImage, decodeImageFile, ImageDecodeError, ImageTooLargeError } from '../../src/camera/decode.js';
import { bmpBombHeader, jpegBomb, pngBomb } from '../helpers/image-bombs.js';

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

describe('decodeImage refuses image bombs from their header', () => {
  const burger = readFileSync(path.join(imagesDir, 'burger.jpg'));

  async function outcome(bytes: Buffer, origin: string, maxPixels?: number): Promise<unknown> {
    return decodeImage(bytes, origin, maxPixels).then(
      () => null,
      (e: unknown) => e,
    );
  }
  async function refusal(bytes: Buffer, origin: string, maxPixels?: number): Promise<ImageTooLargeError> {
    const err = await outcome(bytes, origin, maxPixels);
    expect(err).toBeInstanceOf(ImageTooLargeError);
    return err as ImageTooLargeError;
  }

  it('a 16000x16000 PNG of ~30 KB is refused, naming its size and the limit, without being decoded', async () => {
    const bomb = pngBomb(16000, 16000);
    expect(bomb.length).toBeLessThan(100_000);
    const before = process.resourceUsage().maxRSS;
    const err = await refusal(bomb, 'bomb.png');
    // Decoding it would have made a 768 MB RGB buffer; the peak moved by far less than that.
    expect((process.resourceUsage().maxRSS - before) * 1024).toBeLessThan(200 * 1024 * 1024);
    expect(err.message).toBe('cannot decode bomb.png: image too large: 16000x16000 (256 MP) is over the 50 MP limit; not decoded');
    expect([err.width, err.height, err.maxPixels]).toEqual([16000, 16000, DEFAULT_MAX_PIXELS]);
  });

  it('a JPEG claiming 10000x10000 is refused from its header (the pixel data behind it is a 480x325 picture)', async () => {
    const err = await refusal(jpegBomb(burger, 10000, 10000), 'bomb.jpg');
    expect(err.reason).toBe('image too large: 10000x10000 (100 MP) is over the 50 MP limit; not decoded');
  });

  it('a 1-bit BMP header claiming 16000x16000 is refused before its (missing) pixel data is looked at', async () => {
    const err = await refusal(bmpBombHeader(16000, 16000), 'bomb.bmp');
    expect(err.reason).toMatch(/^image too large: 16000x16000 \(256 MP\)/);
  });

  it("the limit is the caller's: a 480x325 JPEG passes the default and is refused at 100,000 pixels", async () => {
    expect((await decodeImage(burger, 'burger.jpg')).width).toBe(480);
    expect((await refusal(burger, 'burger.jpg', 100_000)).reason).toBe('image too large: 480x325 (0.2 MP) is over the 0.1 MP limit; not decoded');
  });

  it("the Pi cameras' largest stills and a 4K frame pass the default limit", async () => {
    for (const [width, height] of [[4056, 3040], [4608, 2592], [3840, 2160]] as const) {
      // Only the header's size matters to the check; the pixel data behind it is short, so the decode itself fails.
      expect(await outcome(jpegBomb(burger, width, height), `${width}x${height}.jpg`)).not.toBeInstanceOf(ImageTooLargeError);
    }
  });
});

describe('decoding only as large as needed', () => {
  it('decodes a photo down to the size asked for (both sides at least that, aspect kept) and says how large it is', async () => {
    const file = path.join(imagesDir, 'cats_and_dogs.jpg'); // 1200x600
    const small = await decodeImageFile(file, DEFAULT_MAX_PIXELS, { width: 128, height: 128 });
    expect([small.width, small.height]).toEqual([256, 128]);
    expect(small.data.length).toBe(256 * 128 * 3);
    expect(small.fullSize).toEqual({ width: 1200, height: 600 });
    const whole = await decodeImageFile(file);
    expect([whole.width, whole.height]).toEqual([1200, 600]);
    expect(whole).not.toHaveProperty('fullSize');
    // Never enlarged: a picture already smaller than asked comes whole.
    const burger = await decodeImageFile(path.join(imagesDir, 'burger.jpg'), DEFAULT_MAX_PIXELS, { width: 2000, height: 2000 });
    expect([burger.width, burger.height, burger.fullSize]).toEqual([480, 325, undefined]);
  });

  it('reports the full size as shown: an EXIF quarter turn swaps it', async () => {
    const rotated = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#808080' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const img = await decodeImage(rotated, 'rotated.jpg', DEFAULT_MAX_PIXELS, { width: 50, height: 50 });
    expect(img.fullSize).toEqual({ width: 200, height: 400 });
    expect(img.height).toBeGreaterThan(img.width);
  });
});
