import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { MjpegSplitter, type DiscardReason } from '../../src/camera/mjpeg-splitter.js';

/** Deterministic pseudo-random chunk sizes, from 1 byte to `max`. */
function* chunkSizes(seed: number, max: number): Generator<number> {
  let s = seed;
  for (;;) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    yield 1 + (s % max);
  }
}

function run(stream: Buffer, maxBytes: number, seed = 1, maxChunk = 700): { images: Buffer[]; discards: [number, DiscardReason][]; splitter: MjpegSplitter } {
  const images: Buffer[] = [];
  const discards: [number, DiscardReason][] = [];
  const splitter = new MjpegSplitter(maxBytes, (j) => images.push(j), (n, r) => discards.push([n, r]));
  const sizes = chunkSizes(seed, maxChunk);
  for (let offset = 0; offset < stream.length; ) {
    const n = sizes.next().value as number;
    splitter.push(stream.subarray(offset, offset + n));
    offset += n;
  }
  return { images, discards, splitter };
}

/** An APP1 segment carrying a thumbnail: its own FF D8 ... FF D9, which must not end the outer image. */
function withThumbnail(jpeg: Buffer): Buffer {
  const thumb = Buffer.from([0xff, 0xd8, 0xff, 0xd9, 0x00, 0xff, 0xd9]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0'), thumb]);
  const header = Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255]);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

let jpegs: Buffer[] = [];
beforeAll(async () => {
  const colours = [
    { r: 255, g: 0, b: 0 },
    { r: 0, g: 200, b: 50 },
    { r: 20, g: 40, b: 250 },
  ];
  jpegs = await Promise.all(
    colours.map((background, i) =>
      sharp({ create: { width: 64 + i * 8, height: 48, channels: 3, background } })
        // noise gives the entropy-coded data real FF 00 stuffing
        .composite([{ input: Buffer.from(Array.from({ length: 64 * 48 * 3 }, (_, k) => (k * 7919) & 255)), raw: { width: 64, height: 48, channels: 3 } }])
        .jpeg({ quality: 90 })
        .toBuffer(),
    ),
  );
  jpegs.push(withThumbnail(jpegs[0]!));
});

describe('MjpegSplitter', () => {
  it.each([1, 2, 3])('cuts back-to-back JPEGs exactly, whatever the chunk boundaries (seed %i)', (seed) => {
    const junk = Buffer.from([0x00, 0xff, 0x12, 0xff]);
    const { images, discards, splitter } = run(Buffer.concat([junk, ...jpegs, ...jpegs]), 1 << 20, seed, seed === 3 ? 3 : 700);
    expect(images).toHaveLength(8);
    images.forEach((img, i) => expect(img.equals(jpegs[i % 4]!), `image ${i}`).toBe(true));
    expect(discards).toEqual([[4, 'junk before SOI']]);
    expect(splitter.reset()).toBe(0);
  });

  it('hands out each image as its own copy: a consumer scribbling on one does not touch the next', () => {
    const seen: Buffer[] = [];
    const splitter = new MjpegSplitter(1 << 20, (j) => {
      seen.push(Buffer.from(j));
      j.fill(0); // the splitter must not read this memory again
    }, () => {});
    const sizes = chunkSizes(9, 500);
    const stream = Buffer.concat([jpegs[0]!, jpegs[1]!, jpegs[2]!]);
    for (let offset = 0; offset < stream.length; ) {
      const n = sizes.next().value as number;
      splitter.push(stream.subarray(offset, offset + n));
      offset += n;
    }
    expect(seen).toEqual(jpegs.slice(0, 3));
  });

  it('does not end an image at the EOI of an embedded EXIF thumbnail', () => {
    const { images } = run(jpegs[3]!, 1 << 20);
    expect(images).toEqual([jpegs[3]]);
  });

  it('drops an image over the size cap and resyncs on the next one', () => {
    const cap = Math.max(jpegs[1]!.length, jpegs[2]!.length) + 10;
    const big = Buffer.concat([jpegs[1]!.subarray(0, -2), Buffer.alloc(cap, 0x11), Buffer.from([0xff, 0xd9])]);
    const { images, discards } = run(Buffer.concat([jpegs[1]!, big, jpegs[2]!]), cap);
    expect(images.map((i) => i.length)).toEqual([jpegs[1]!.length, jpegs[2]!.length]);
    expect(discards.map(([, r]) => r)).toEqual(['over size cap', 'junk before SOI']);
    expect(discards[0]![0]).toBeGreaterThan(cap);
  });

  it('drops a torn image when a new SOI arrives first, and keeps the new image', () => {
    const torn = jpegs[0]!.subarray(0, Math.floor(jpegs[0]!.length / 2));
    const { images, discards } = run(Buffer.concat([torn, jpegs[1]!, jpegs[2]!]), 1 << 20);
    expect(images).toEqual([jpegs[1], jpegs[2]]);
    expect(discards).toEqual([[torn.length, 'new SOI before EOI']]);
  });

  it('drops an image whose marker structure is broken', () => {
    const broken = Buffer.concat([Buffer.from([0xff, 0xd8, 0x00, 0x01, 0x02]), jpegs[2]!]);
    const { images, discards } = run(broken, 1 << 20);
    expect(images).toEqual([jpegs[2]]);
    expect(discards[0]).toEqual([3, 'corrupt marker']);
  });

  it('never delivers a partial image: reset() at the producer exit discards it', () => {
    const partial = jpegs[1]!.subarray(0, 200);
    const { images, discards, splitter } = run(Buffer.concat([jpegs[0]!, partial]), 1 << 20);
    expect(images).toEqual([jpegs[0]]);
    expect(splitter.reset()).toBe(200);
    expect(discards).toEqual([[200, 'truncated']]);
    splitter.push(jpegs[2]!);
    expect(images).toEqual([jpegs[0], jpegs[2]]); // the next run starts clean
  });

  it('handles an FF D8 split across two chunks', () => {
    const images: Buffer[] = [];
    const splitter = new MjpegSplitter(1 << 20, (j) => images.push(j), () => {});
    splitter.push(Buffer.from([0x01, 0xff]));
    splitter.push(jpegs[0]!.subarray(1));
    expect(images).toEqual([jpegs[0]]);
  });
});
